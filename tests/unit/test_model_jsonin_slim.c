/* Tests for jsonin_loadb_slim: the controllers' cache parses stored objects
 * without metadata.managedFields, and must get everything else exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/jsonin.h"

/* Parses in slim and in full; the slim one must equal the full one without
 * metadata.managedFields. */
static void check(const char *text)
{
    json_error_t je;
    json_t *slim = jsonin_loadb_slim(text, strlen(text), 0, &je);
    json_t *full = json_loads(text, 0, &je);
    assert_non_null(full);
    assert_non_null(slim);
    json_object_del(json_object_get(full, "metadata"), "managedFields");
    assert_true(json_equal(slim, full));
    json_decref(slim);
    json_decref(full);
}

static void test_positions(void **state)
{
    (void)state;
    /* first, middle and last member of metadata, with and without spaces */
    check("{\"metadata\":{\"managedFields\":[{\"a\":1}],\"name\":\"x\"},\"spec\":{}}");
    check("{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"a\":{\"b\":[1,2]}}],\"uid\":\"u\"}}");
    check("{\"metadata\":{\"name\":\"x\",\"managedFields\":[]}}");
    check("{\"metadata\":{\"managedFields\":[]}}");
    check("{ \"kind\" : \"Pod\" , \"metadata\" : { \"name\" : \"x\" , \"managedFields\" : "
          "[ { \"f\" : \"}]\\\"\" } ] } , \"status\" : { } }");
    check("{\"metadata\":{\"name\":\"x\",\"managedFields\":null,\"labels\":{}}}");
}

static void test_left_alone(void **state)
{
    (void)state;
    /* managedFields elsewhere, in strings, or absent: parsed as it is */
    check("{\"spec\":{\"managedFields\":[1]},\"metadata\":{\"name\":\"x\"}}");
    check("{\"metadata\":{\"annotations\":{\"k\":\"\\\"managedFields\\\":[\"},\"name\":\"y\"}}");
    check("{\"metadata\":{\"labels\":{\"managedFields\":\"v\"}}}");
    check("{\"kind\":\"Pod\"}");
    check("[1,2,3]");
    json_error_t je;
    assert_null(jsonin_loadb_slim("{\"metadata\":{\"managedFields\":[", 30, 0, &je));
    assert_null(jsonin_loadb_slim("not json", 8, 0, &je));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
