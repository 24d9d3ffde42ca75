/* Tests for the controllers' string sets: kset, and kdue (strings due at a
 * time, which batch the Job controller's looks at a Job), against a plain
 * model on random adds and takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/rng.h"
#include "ctrl/ctrl_int.h"

static void test_kdue_basics(void **state)
{
    (void)state;
    struct kdue d;
    struct kset out;
    kdue_init(&d);
    kset_init(&out);
    assert_int_equal(d.next_at, 0);
    kdue_add(&d, "ns/a", 300);
    kdue_add(&d, "ns/b", 100);
    kdue_add(&d, "ns/a", 200); /* the earlier time wins */
    kdue_add(&d, "ns/b", 500); /* a later one does not move it */
    assert_int_equal(d.next_at, 100);
    kdue_take(&d, 99, &out);
    assert_int_equal(out.m.len, 0);
    kdue_take(&d, 100, &out);
    assert_true(kset_has(&out, "ns/b"));
    assert_false(kset_has(&out, "ns/a"));
    assert_int_equal(d.next_at, 200);
    kdue_take(&d, 1000, &out);
    assert_true(kset_has(&out, "ns/a"));
    assert_int_equal(d.next_at, 0);
    assert_int_equal(d.m.len, 0);
    kdue_add(&d, "ns/c", 5);
    kdue_clear(&d);
    assert_int_equal(d.next_at, 0);
    kdue_release(&d);
    kset_release(&out);
}

static void test_kdue_random(void **state)
{
    (void)state;
    enum { KEYS = 200 };
    int64_t model[KEYS]; /* due time, 0: absent */
    memset(model, 0, sizeof model);
    struct kdue d;
    struct kset out;
    kdue_init(&d);
    kset_init(&out);
    struct rng r;
    rng_seed(&r, 7);
    int64_t now = 1;
    for (int step = 0; step < 100000; step++) {
        char k[16];
        if (rng_below(&r, 3)) {
            int i = (int)rng_below(&r, KEYS);
            int64_t at = now + (int64_t)rng_below(&r, 1000);
            snprintf(k, sizeof k, "k%d", i);
            kdue_add(&d, k, at);
            if (!model[i] || at < model[i])
                model[i] = at;
        } else {
            now += (int64_t)rng_below(&r, 300);
            kset_clear(&out);
            kdue_take(&d, now, &out);
            int64_t next = 0;
            for (int i = 0; i < KEYS; i++) {
                snprintf(k, sizeof k, "k%d", i);
                bool due = model[i] && model[i] <= now;
                if (due != kset_has(&out, k))
                    fail_msg("step %d: %s due %d, taken %d", step, k, due, kset_has(&out, k));
                if (due)
                    model[i] = 0;
                else if (model[i] && (!next || model[i] < next))
                    next = model[i];
            }
            assert_int_equal(d.next_at, next);
        }
    }
    kdue_release(&d);
    kset_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdue_basics),
        cmocka_unit_test(test_kdue_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
