/* Tests for base/strbuf: appends, the hard limit (a failed append changes
 * nothing), growth, and moving the content out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"

/* Asserts the buffer holds exactly the n bytes at want, NUL-terminated. */
static void assert_content(const struct strbuf *sb, const char *want, size_t n)
{
    assert_int_equal(sb->len, n);
    assert_memory_equal(sb->buf, want, n);
    assert_int_equal(sb->buf[n], '\0');
    assert_true(sb->len <= sb->limit);
    assert_true(sb->cap == 0 || sb->cap <= sb->limit + 1);
}

static void test_empty_is_valid_string(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 100);
    assert_string_equal(sb.buf, "");
    assert_int_equal(sb.cap, 0);
    strbuf_reset(&sb);
    strbuf_truncate(&sb, 0);
    strbuf_release(&sb);
    assert_string_equal(sb.buf, "");
}

static void test_appends(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 1000);
    assert_int_equal(strbuf_add(&sb, "node", 4), 0);
    assert_int_equal(strbuf_addch(&sb, '-'), 0);
    assert_int_equal(strbuf_addf(&sb, "%03d/%s", 7, "gpu"), 0);
    assert_int_equal(strbuf_addstr(&sb, "!"), 0);
    assert_int_equal(strbuf_add(&sb, NULL, 0), 0);
    assert_int_equal(strbuf_addf(&sb, "%s", ""), 0);
    assert_content(&sb, "node-007/gpu!", 13);
    /* Bytes, not C strings: an embedded NUL counts. */
    assert_int_equal(strbuf_add(&sb, "a\0b", 3), 0);
    assert_content(&sb, "node-007/gpu!a\0b", 16);
    strbuf_truncate(&sb, 4);
    assert_content(&sb, "node", 4);
    strbuf_release(&sb);
}

static void test_growth_over_many_appends(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 1 << 20);
    char *want = malloc(100000);
    for (size_t i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        want[i] = c;
        if (i % 3 == 0)
            assert_int_equal(strbuf_addch(&sb, c), 0);
        else if (i % 3 == 1)
            assert_int_equal(strbuf_add(&sb, &c, 1), 0);
        else
            assert_int_equal(strbuf_addf(&sb, "%c", c), 0);
    }
    assert_content(&sb, want, 100000);
    free(want);
    strbuf_release(&sb);
}

static void test_addf_long_output_grows(void **state)
{
    /* One addf far larger than the first allocation goes through the
     * measure-grow-format-again path. */
    struct strbuf sb;
    strbuf_init(&sb, 1 << 20);
    strbuf_addstr(&sb, "x");
    assert_int_equal(strbuf_addf(&sb, "%5000d|%s", 42, "end"), 0);
    assert_int_equal(sb.len, 1 + 5000 + 4);
    assert_int_equal(sb.buf[0], 'x');
    assert_int_equal(sb.buf[4999], '4');
    assert_int_equal(sb.buf[5000], '2');
    assert_string_equal(sb.buf + 5001, "|end");
    strbuf_release(&sb);
}

/* The limit: each case starts from a buffer holding `prefix` with limit
 * `limit`, appends `add` with the given function, and expects either success or
 * E2BIG with the prefix intact. */
enum append_fn { ADD, ADDSTR, ADDCH, ADDF };

struct limit_case {
    const char *name;
    size_t limit;
    const char *prefix;
    enum append_fn fn;
    const char *add;
    int want_rc;
};

static const struct limit_case limit_cases[] = {
    {"exactly fills the limit", 10, "12345", ADD, "67890", 0},
    {"one byte past the limit", 10, "12345", ADD, "678901", -1},
    {"addstr past the limit", 10, "12345", ADDSTR, "678901", -1},
    {"addch at the limit", 5, "12345", ADDCH, "x", -1},
    {"addch just under the limit", 6, "12345", ADDCH, "x", 0},
    {"addf exactly fills", 10, "12345", ADDF, "67890", 0},
    {"addf one past", 10, "12345", ADDF, "678901", -1},
    {"addf far past", 10, "12345", ADDF, "6789012345678901234567890", -1},
    {"limit 0 rejects any byte", 0, "", ADDCH, "x", -1},
    {"limit 0 accepts nothing", 0, "", ADD, "", 0},
    {"empty buffer past limit", 3, "", ADDF, "abcd", -1},
};

static int do_append(struct strbuf *sb, enum append_fn fn, const char *s)
{
    switch (fn) {
    case ADD:
        return strbuf_add(sb, s, strlen(s));
    case ADDSTR:
        return strbuf_addstr(sb, s);
    case ADDCH:
        return strbuf_addch(sb, s[0]);
    case ADDF:
        return strbuf_addf(sb, "%s", s);
    }
    return -2;
}

static void test_limit_table(void **state)
{
    for (size_t i = 0; i < sizeof limit_cases / sizeof limit_cases[0]; i++) {
        const struct limit_case *c = &limit_cases[i];
        struct strbuf sb;
        strbuf_init(&sb, c->limit);
        assert_int_equal(strbuf_addstr(&sb, c->prefix), 0);
        errno = 0;
        int rc = do_append(&sb, c->fn, c->add);
        if (rc != c->want_rc)
            fail_msg("case \"%s\": rc %d, want %d", c->name, rc, c->want_rc);
        if (rc < 0) {
            assert_int_equal(errno, E2BIG);
            assert_content(&sb, c->prefix, strlen(c->prefix));
        } else {
            size_t n = strlen(c->prefix) + (c->fn == ADDCH ? 1 : strlen(c->add));
            assert_int_equal(sb.len, n);
            assert_int_equal(sb.buf[n], '\0');
        }
        strbuf_release(&sb);
    }
}

static void test_failed_addf_in_spare_room_restores_content(void **state)
{
    /* The buffer has spare capacity (64 bytes allocated), so addf first
     * formats into it, overwriting the NUL, before learning that the result
     * passes the limit. The content must still read back unchanged. */
    struct strbuf sb;
    strbuf_init(&sb, 40);
    strbuf_addstr(&sb, "abc");
    assert_true(sb.cap > 20);
    assert_int_equal(strbuf_addf(&sb, "%s", "0123456789012345678901234567890123456789"), -1);
    assert_int_equal(errno, E2BIG);
    assert_content(&sb, "abc", 3);
    /* And it still works afterwards, up to exactly the limit. */
    assert_int_equal(strbuf_addf(&sb, "%037d", 0), 0);
    assert_int_equal(sb.len, 40);
    assert_int_equal(strbuf_addch(&sb, 'x'), -1);
    strbuf_release(&sb);
}

static void test_capacity_never_exceeds_limit(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 1000);
    while (strbuf_addstr(&sb, "0123456789abcdef") == 0)
        ;
    assert_int_equal(errno, E2BIG);
    assert_int_equal(sb.len, 992);
    assert_int_equal(sb.cap, 1001);
    strbuf_release(&sb);
}

static void test_take_moves_out(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 100);
    strbuf_addstr(&sb, "hello");
    size_t len = 0;
    char *s = strbuf_take(&sb, &len);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    free(s);
    /* Left empty with the same limit, and reusable. */
    assert_content(&sb, "", 0);
    assert_int_equal(sb.limit, 100);
    strbuf_addstr(&sb, "again");
    assert_content(&sb, "again", 5);
    strbuf_release(&sb);
    /* Taking from an empty buffer still gives a string the caller frees. */
    s = strbuf_take(&sb, NULL);
    assert_string_equal(s, "");
    free(s);
}

static void test_reset_keeps_memory(void **state)
{
    struct strbuf sb;
    strbuf_init(&sb, 1000);
    strbuf_addf(&sb, "%0500d", 1);
    char *mem = sb.buf;
    size_t cap = sb.cap;
    strbuf_reset(&sb);
    assert_content(&sb, "", 0);
    assert_ptr_equal(sb.buf, mem);
    assert_int_equal(sb.cap, cap);
    strbuf_release(&sb);
}

/* reserve: one allocation for what is announced, capped at the limit; the
 * content is untouched and later appends that fit do not move the buffer. */
static void test_reserve(void **state)
{
    (void)state;
    struct strbuf sb;
    strbuf_init(&sb, 1000);
    assert_int_equal(strbuf_addstr(&sb, "ab"), 0);
    assert_int_equal(strbuf_reserve(&sb, 500), 0);
    assert_true(sb.cap >= 503);
    char *at = sb.buf;
    for (int i = 0; i < 500; i++)
        assert_int_equal(strbuf_addch(&sb, 'x'), 0);
    assert_ptr_equal(sb.buf, at);
    assert_int_equal(sb.len, 502);
    assert_memory_equal(sb.buf, "abx", 3);
    /* past the limit: room up to the limit, no error, and the limit still holds */
    assert_int_equal(strbuf_reserve(&sb, 5000), 0);
    assert_true(sb.cap <= sb.limit + 1);
    strbuf_release(&sb);
}

/* str_join against snprintf("%s%s%s%s"): the same text, length and cut, for
 * every buffer size from 0 to past the whole, with empty and NULL parts. */
static void test_str_join_is_snprintf(void **state)
{
    (void)state;
    const char *sets[][4] = {{"/registry/", "core", "/", "pods"},
                             {"", "", "", ""},
                             {"a", NULL, "bc", NULL},
                             {"kueue.x-k8s.io", "/", "v1beta2", ""},
                             {NULL, NULL, NULL, "z"}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        const char *const *p = sets[k];
        char want[64], got[64];
        for (size_t size = 0; size <= 24; size++) {
            memset(want, 'X', sizeof want);
            memset(got, 'X', sizeof got);
            int wn = snprintf(want, size, "%s%s%s%s", p[0] ? p[0] : "", p[1] ? p[1] : "",
                              p[2] ? p[2] : "", p[3] ? p[3] : "");
            int gn = str_join(got, size, p, 4);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, sizeof want); /* nothing written past size */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_empty_is_valid_string),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_growth_over_many_appends),
        cmocka_unit_test(test_addf_long_output_grows),
        cmocka_unit_test(test_limit_table),
        cmocka_unit_test(test_failed_addf_in_spare_room_restores_content),
        cmocka_unit_test(test_capacity_never_exceeds_limit),
        cmocka_unit_test(test_take_moves_out),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_str_join_is_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
