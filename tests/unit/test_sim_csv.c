/*
 * Tests for sim/csv: the dialect (table of good inputs), every rejection with
 * its exact message (table of bad inputs), the caps at and past their limits,
 * the typed getters, reading across I/O buffer boundaries, and the real trace
 * files under MUSTER_TRACES checked against the counts in their README.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/err.h"
#include "sim/csv.h"

/* Renders what a reader yields as "H<line>[f]..." for the header, then
 * "<line>[f][f]..." per record, records separated by '|'. Returns the
 * csv_next() / csv_read_header() result that stopped it (0 or -1). */
static int render(struct csv_reader *r, bool header, char *out, size_t cap, struct err *e)
{
    size_t n = 0;
    out[0] = '\0';
    if (header) {
        if (csv_read_header(r, e) < 0)
            return -1;
        n += (size_t)snprintf(out + n, cap - n, "H%ld", csv_line(r));
        for (int i = 0; i < csv_nfields(r); i++)
            n += (size_t)snprintf(out + n, cap - n, "[%s]", csv_field(r, i, NULL));
    }
    int rc;
    while ((rc = csv_next(r, e)) == 1) {
        n += (size_t)snprintf(out + n, cap - n, "%s%ld", n ? "|" : "", csv_line(r));
        for (int i = 0; i < csv_nfields(r); i++)
            n += (size_t)snprintf(out + n, cap - n, "[%s]", csv_field(r, i, NULL));
        assert_true(n < cap);
    }
    return rc;
}

struct good_case {
    const char *name;
    const char *in;
    bool header;
    const char *want;
};

static const struct good_case good_cases[] = {
    {"plain", "a,b\n1,2\n", false, "1[a][b]|2[1][2]"},
    {"header", "a,b\n1,2\n", true, "H1[a][b]|2[1][2]"},
    {"crlf", "a,b\r\n1,2\r\n", true, "H1[a][b]|2[1][2]"},
    {"no final newline", "a,b\n1,2", false, "1[a][b]|2[1][2]"},
    {"no final newline, crlf before", "a,b\r\n1,2", false, "1[a][b]|2[1][2]"},
    {"empty fields", "a,b,c\n,,\n1,,3\n", false, "1[a][b][c]|2[][][]|3[1][][3]"},
    {"trailing comma", "a,\n", false, "1[a][]"},
    {"spaces kept", " a , b \n", false, "1[ a ][ b ]"},
    {"quoted comma and quotes", "\"x,y\",\"he said \"\"hi\"\"\"\n", false,
     "1[x,y][he said \"hi\"]"},
    {"quoted empty", "\"\",x\n", false, "1[][x]"},
    {"quoted only quote", "\"\"\"\"\n", false, "1[\"]"},
    {"quoted at eof", "\"abc\"", false, "1[abc]"},
    {"quoted newline", "a,b\n\"l1\nl2\",z\n3,4\n", false, "1[a][b]|2[l1\nl2][z]|4[3][4]"},
    {"quoted crlf kept", "\"l1\r\nl2\"\r\nx\r\n", false, "1[l1\r\nl2]|3[x]"},
    {"quoted last field empty", "a,\"\"\n", false, "1[a][]"},
    {"blank lines skipped", "a\n\n\nb\n\n", false, "1[a]|4[b]"},
    {"blank crlf lines skipped", "a\r\n\r\nb\r\n", false, "1[a]|3[b]"},
    {"leading blank line", "\na,b\n1,2\n", true, "H2[a][b]|3[1][2]"},
    {"bom skipped", "\xEF\xBB\xBFname,x\n", true, "H1[name][x]"},
    {"utf8 kept", "\xC3\xA9,\xC3\xBC\n", false, "1[\xC3\xA9][\xC3\xBC]"},
    {"empty input", "", false, ""},
    {"only newlines", "\n\r\n\n", false, ""},
    {"philly-like timestamps", "timestamp,duration\n2017-10-09 07:01:55,66.0\n\n", true,
     "H1[timestamp][duration]|2[2017-10-09 07:01:55][66.0]"},
};

static void test_good_inputs(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof good_cases / sizeof good_cases[0]; k++) {
        const struct good_case *c = &good_cases[k];
        struct csv_reader r;
        struct err e = {0};
        char got[1024];
        csv_open_mem(&r, "t.csv", c->in, strlen(c->in));
        int rc = render(&r, c->header, got, sizeof got, &e);
        if (rc != 0)
            fail_msg("case '%s': unexpected error: %s", c->name, e.msg);
        if (strcmp(got, c->want) != 0)
            fail_msg("case '%s': got '%s', want '%s'", c->name, got, c->want);
        csv_close(&r);
    }
}

struct bad_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    bool header;
    const char *want_before; /* records rendered before the error */
    const char *want_err;
};

static const struct bad_case bad_cases[] = {
    {"unterminated quote", "a,\"bc\n", 0, false, "", "t.csv:1:2: unterminated quoted field"},
    {"unterminated quote, header name", "x,y\n1,\"2\n", 0, true, "H1[x][y]",
     "t.csv:2:2 (y): unterminated quoted field"},
    {"unterminated after multi-line field", "x,y\n\"a\nb\",\"c\n", 0, true, "H1[x][y]",
     "t.csv:2:2 (y): unterminated quoted field"},
    {"text after closing quote", "\"a\"b,c\n", 0, false, "",
     "t.csv:1:1: text after the closing quote"},
    {"quote in unquoted field", "x\nab\"c\n", 0, false, "1[x]",
     "t.csv:2:1: quote in an unquoted field (quote the whole field and double the quote)"},
    {"bare cr in field", "a\rb\n", 0, false, "", "t.csv:1:1: CR not followed by LF"},
    {"bare cr at line start", "a\n\rb\n", 0, false, "1[a]", "t.csv:2:1: CR not followed by LF"},
    {"bare cr after quote", "\"a\"\r", 0, false, "", "t.csv:1:1: CR not followed by LF"},
    {"nul byte",
     "a,b\x00"
     "c\n",
     6, false, "", "t.csv:1:2: NUL byte in field"},
    {"nul byte quoted", "\"\x00\"\n", 4, false, "", "t.csv:1:1: NUL byte in field"},
    {"fewer fields than header", "a,b,c\n1,2,3\n1,2\n", 0, true, "H1[a][b][c]|2[1][2][3]",
     "t.csv:3: expected 3 fields, found 2"},
    {"more fields than header", "a,b\n1,2,3\n", 0, true, "H1[a][b]",
     "t.csv:2: expected 2 fields, found 3"},
    {"width set by first record", "1,2\n1,2,3\n", 0, false, "1[1][2]",
     "t.csv:2: expected 2 fields, found 3"},
    {"empty header", "", 0, true, "", "t.csv: empty file, expected a header"},
    {"blank header", "\n\n", 0, true, "", "t.csv: empty file, expected a header"},
    {"duplicate column", "a,b,a\n", 0, true, "", "t.csv:1:3: duplicate column 'a' (also column 1)"},
    {"empty column name", "a,,b\n", 0, true, "", "t.csv:1:2: empty column name"},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
        const struct bad_case *c = &bad_cases[k];
        struct csv_reader r;
        struct err e = {0};
        char got[1024];
        csv_open_mem(&r, "t.csv", c->in, c->len ? c->len : strlen(c->in));
        int rc = render(&r, c->header, got, sizeof got, &e);
        if (rc != -1)
            fail_msg("case '%s': no error, read '%s'", c->name, got);
        if (strcmp(e.msg, c->want_err) != 0)
            fail_msg("case '%s': error '%s', want '%s'", c->name, e.msg, c->want_err);
        if (strcmp(got, c->want_before) != 0)
            fail_msg("case '%s': read '%s' before the error, want '%s'", c->name, got,
                     c->want_before);
        /* A spent reader repeats its error rather than resynchronising. */
        struct err again = {0};
        assert_int_equal(csv_next(&r, &again), -1);
        assert_string_equal(again.msg, c->want_err);
        csv_close(&r);
    }
}

/* Reads buf (owned by the caller) and returns the first csv_next() result,
 * leaving the message in e. */
static int first_record(const char *buf, size_t len, int *nfields, struct err *e)
{
    struct csv_reader r;
    csv_open_mem(&r, "t.csv", buf, len);
    int rc = csv_next(&r, e);
    *nfields = csv_nfields(&r);
    csv_close(&r);
    return rc;
}

static void test_line_cap(void **state)
{
    (void)state;
    char *buf = xmalloc(2 * CSV_LINE_MAX + 16);
    struct err e = {0};
    int nf;

    /* Exactly at the cap, with each kind of terminator and with none. */
    static const char *const terms[] = {"\n", "\r\n", ""};
    for (size_t t = 0; t < 3; t++) {
        memset(buf, 'a', CSV_LINE_MAX);
        strcpy(buf + CSV_LINE_MAX, terms[t]);
        assert_int_equal(first_record(buf, strlen(buf), &nf, &e), 1);
        assert_int_equal(nf, 1);
    }

    /* One byte over, however the record ends. */
    for (size_t t = 0; t < 3; t++) {
        memset(buf, 'a', CSV_LINE_MAX + 1);
        strcpy(buf + CSV_LINE_MAX + 1, terms[t]);
        assert_int_equal(first_record(buf, strlen(buf), &nf, &e), -1);
        assert_string_equal(e.msg, "t.csv:1: record longer than 65536 bytes");
    }

    /* Over by a separator only: 65536 bytes of field, then ",\n". */
    memset(buf, 'a', CSV_LINE_MAX);
    strcpy(buf + CSV_LINE_MAX, ",\n");
    assert_int_equal(first_record(buf, strlen(buf), &nf, &e), -1);
    assert_string_equal(e.msg, "t.csv:1: record longer than 65536 bytes");

    /* A quoted field spanning lines counts whole. */
    buf[0] = '"';
    for (size_t k = 1; k < CSV_LINE_MAX; k++)
        buf[k] = k % 100 == 0 ? '\n' : 'b';
    strcpy(buf + CSV_LINE_MAX, "\"\n");
    assert_int_equal(first_record(buf, strlen(buf), &nf, &e), -1);
    assert_string_equal(e.msg, "t.csv:1: record longer than 65536 bytes");

    /* Far past the cap: fails without reading (or buffering) the rest. */
    memset(buf, 'a', 2 * CSV_LINE_MAX);
    assert_int_equal(first_record(buf, 2 * CSV_LINE_MAX, &nf, &e), -1);
    assert_string_equal(e.msg, "t.csv:1: record longer than 65536 bytes");
    free(buf);
}

static void test_field_cap(void **state)
{
    (void)state;
    char buf[2 * CSV_FIELDS_MAX + 8];
    struct err e = {0};
    int nf;

    memset(buf, ',', CSV_FIELDS_MAX - 1);
    strcpy(buf + CSV_FIELDS_MAX - 1, "\n");
    assert_int_equal(first_record(buf, strlen(buf), &nf, &e), 1);
    assert_int_equal(nf, CSV_FIELDS_MAX);

    memset(buf, ',', CSV_FIELDS_MAX);
    strcpy(buf + CSV_FIELDS_MAX, "\n");
    assert_int_equal(first_record(buf, strlen(buf), &nf, &e), -1);
    assert_string_equal(e.msg, "t.csv:1: more than 256 fields");
}

struct i64_case {
    const char *text;
    int64_t min, max;
    int64_t want;
    const char *want_err; /* NULL: expect success */
};

static const struct i64_case i64_cases[] = {
    {"460", 0, 1000, 460, NULL},
    {"0", 0, 1000, 0, NULL},
    {"1000", 0, 1000, 1000, NULL},
    {"-5", -10, 10, -5, NULL},
    {"+7", -10, 10, 7, NULL},
    {"007", 0, 10, 7, NULL},
    {"9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX, NULL},
    {"-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN, NULL},
    {"abc", 0, 1000, 0, "t.csv:2:2 (gpu_milli): 'abc' is not an integer"},
    {"", 0, 1000, 0, "t.csv:2:2 (gpu_milli): empty field, expected an integer"},
    {"1500", 0, 1000, 0, "t.csv:2:2 (gpu_milli): 1500 is out of range [0, 1000]"},
    {"-1", 0, 1000, 0, "t.csv:2:2 (gpu_milli): -1 is out of range [0, 1000]"},
    {"12.5", 0, 1000, 0, "t.csv:2:2 (gpu_milli): '12.5' is not an integer"},
    {" 12", 0, 1000, 0, "t.csv:2:2 (gpu_milli): ' 12' is not an integer"},
    {"12 ", 0, 1000, 0, "t.csv:2:2 (gpu_milli): '12 ' is not an integer"},
    {"-", 0, 1000, 0, "t.csv:2:2 (gpu_milli): '-' is not an integer"},
    {"1e3", 0, 1000, 0, "t.csv:2:2 (gpu_milli): '1e3' is not an integer"},
    {"0x10", 0, 1000, 0, "t.csv:2:2 (gpu_milli): '0x10' is not an integer"},
    {"9223372036854775808", INT64_MIN, INT64_MAX, 0,
     "t.csv:2:2 (gpu_milli): 9223372036854775808 is out of range [-9223372036854775808, "
     "9223372036854775807]"},
    {"-9223372036854775809", INT64_MIN, INT64_MAX, 0,
     "t.csv:2:2 (gpu_milli): -9223372036854775809 is out of range [-9223372036854775808, "
     "9223372036854775807]"},
    {"99999999999999999999x", 0, 1000, 0,
     "t.csv:2:2 (gpu_milli): '99999999999999999999x' is not an integer"},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, 1, 0,
     "t.csv:2:2 (gpu_milli): 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not an integer"},
    {"\"a\tb\"", 0, 1, 0, "t.csv:2:2 (gpu_milli): 'a?b' is not an integer"},
};

/* Opens "id,gpu_milli\nx,<text>\n" and positions the reader on the record. */
static void open_one(struct csv_reader *r, char *buf, size_t cap, const char *text)
{
    struct err e = {0};
    snprintf(buf, cap, "id,gpu_milli\nx,%s\n", text);
    csv_open_mem(r, "t.csv", buf, strlen(buf));
    assert_int_equal(csv_read_header(r, &e), 0);
    assert_int_equal(csv_next(r, &e), 1);
}

static void test_get_i64(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof i64_cases / sizeof i64_cases[0]; k++) {
        const struct i64_case *c = &i64_cases[k];
        struct csv_reader r;
        char buf[256];
        struct err e = {0};
        int64_t v = 12345;
        open_one(&r, buf, sizeof buf, c->text);
        int rc = csv_get_i64(&r, 1, c->min, c->max, &v, &e);
        if (c->want_err) {
            if (rc != -1)
                fail_msg("'%s': accepted as %lld", c->text, (long long)v);
            if (strcmp(e.msg, c->want_err) != 0)
                fail_msg("'%s': error '%s', want '%s'", c->text, e.msg, c->want_err);
            assert_int_equal(v, 12345); /* untouched on failure */
        } else {
            if (rc != 0)
                fail_msg("'%s': %s", c->text, e.msg);
            assert_int_equal(v, c->want);
        }
        csv_close(&r);
    }
}

static void test_get_i64_without_header(void **state)
{
    (void)state;
    static const char in[] = "a,b,abc\n";
    struct csv_reader r;
    struct err e = {0};
    int64_t v;
    csv_open_mem(&r, "t.csv", in, strlen(in));
    assert_int_equal(csv_next(&r, &e), 1);
    assert_int_equal(csv_get_i64(&r, 2, 0, 10, &v, &e), -1);
    assert_string_equal(e.msg, "t.csv:1:3: 'abc' is not an integer");
    assert_int_equal(csv_get_i64(&r, 3, 0, 10, &v, &e), -1);
    assert_string_equal(e.msg, "t.csv:1:4: no such field (the record has 3)");
    assert_null(csv_field(&r, 3, NULL));
    assert_null(csv_field(&r, -1, NULL));
    assert_null(csv_col_name(&r, 0));
    assert_int_equal(csv_col(&r, "a"), -1);
    csv_close(&r);
}

struct f64_case {
    const char *text;
    double want;
    const char *want_err;
};

static const struct f64_case f64_cases[] = {
    {"66.0", 66.0, NULL},
    {"0", 0, NULL},
    {"1e3", 1000, NULL},
    {".5", 0.5, NULL},
    {"-2.5E-1", -0.25, NULL},
    {"", 0, "t.csv:2:2 (gpu_milli): empty field, expected a number"},
    {"nan", 0, "t.csv:2:2 (gpu_milli): 'nan' is not a number"},
    {"inf", 0, "t.csv:2:2 (gpu_milli): 'inf' is not a number"},
    {"0x10", 0, "t.csv:2:2 (gpu_milli): '0x10' is not a number"},
    {" 1", 0, "t.csv:2:2 (gpu_milli): ' 1' is not a number"},
    {"1.2.3", 0, "t.csv:2:2 (gpu_milli): '1.2.3' is not a number"},
    {"1e999", 0, "t.csv:2:2 (gpu_milli): 1e999 is out of range [-1e+09, 1e+09]"},
    {"2e9", 0, "t.csv:2:2 (gpu_milli): 2e9 is out of range [-1e+09, 1e+09]"},
};

static void test_get_f64(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof f64_cases / sizeof f64_cases[0]; k++) {
        const struct f64_case *c = &f64_cases[k];
        struct csv_reader r;
        char buf[256];
        struct err e = {0};
        double v = 0;
        open_one(&r, buf, sizeof buf, c->text);
        int rc = csv_get_f64(&r, 1, -1e9, 1e9, &v, &e);
        if (c->want_err) {
            if (rc != -1)
                fail_msg("'%s': accepted as %g", c->text, v);
            if (strcmp(e.msg, c->want_err) != 0)
                fail_msg("'%s': error '%s', want '%s'", c->text, e.msg, c->want_err);
        } else {
            if (rc != 0)
                fail_msg("'%s': %s", c->text, e.msg);
            assert_true(v == c->want);
        }
        csv_close(&r);
    }
}

static void test_get_str(void **state)
{
    (void)state;
    struct csv_reader r;
    char buf[256];
    struct err e = {0};
    const char *s;
    size_t len;

    open_one(&r, buf, sizeof buf, "\"P100|T4\"");
    assert_int_equal(csv_get_str(&r, 1, 0, 8, &s, &len, &e), 0);
    assert_string_equal(s, "P100|T4");
    assert_int_equal(len, 7);
    assert_int_equal(csv_get_str(&r, 1, 0, 6, &s, &len, &e), -1);
    assert_string_equal(e.msg, "t.csv:2:2 (gpu_milli): 'P100|T4' is longer than 6 bytes");
    assert_int_equal(csv_get_str(&r, 1, 8, 10, &s, NULL, &e), -1);
    assert_string_equal(e.msg, "t.csv:2:2 (gpu_milli): 'P100|T4' is shorter than 8 bytes");
    csv_close(&r);

    open_one(&r, buf, sizeof buf, "");
    assert_int_equal(csv_get_str(&r, 1, 0, 8, &s, &len, &e), 0);
    assert_int_equal(len, 0);
    assert_int_equal(csv_get_str(&r, 1, 1, 8, &s, &len, &e), -1);
    assert_string_equal(e.msg, "t.csv:2:2 (gpu_milli): empty field");
    csv_close(&r);
}

static void test_header_lookup(void **state)
{
    (void)state;
    static const char in[] = "name,cpu_milli,gpu\nn0,1000,2\n";
    struct csv_reader r;
    struct err e = {0};
    int idx[3];
    csv_open_mem(&r, "nodes.csv", in, strlen(in));
    assert_int_equal(csv_read_header(&r, &e), 0);
    assert_int_equal(csv_col(&r, "name"), 0);
    assert_int_equal(csv_col(&r, "gpu"), 2);
    assert_int_equal(csv_col(&r, "GPU"), -1);
    assert_string_equal(csv_col_name(&r, 1), "cpu_milli");
    assert_null(csv_col_name(&r, 3));

    static const char *const ok[] = {"gpu", "name", "cpu_milli"};
    assert_int_equal(csv_require_cols(&r, ok, 3, idx, &e), 0);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 0);
    assert_int_equal(idx[2], 1);

    static const char *const missing[] = {"name", "gpu_milli"};
    assert_int_equal(csv_require_cols(&r, missing, 2, idx, &e), -1);
    assert_string_equal(e.msg, "nodes.csv:1: missing column 'gpu_milli'");

    /* The header stays readable after records replace the line buffer. */
    assert_int_equal(csv_next(&r, &e), 1);
    assert_string_equal(csv_col_name(&r, 2), "gpu");
    assert_int_equal(csv_errf(&r, 2, &e, EINVAL, "%d GPUs is odd", 2), -1);
    assert_string_equal(e.msg, "nodes.csv:2:3 (gpu): 2 GPUs is odd");
    assert_int_equal(e.code, EINVAL);
    assert_int_equal(csv_errf(&r, -1, &e, EINVAL, "duplicate node"), -1);
    assert_string_equal(e.msg, "nodes.csv:2: duplicate node");
    assert_int_equal(csv_next(&r, &e), 0);
    assert_int_equal(csv_next(&r, &e), 0);
    csv_close(&r);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct csv_reader r;
    struct err e = {0};
    assert_int_equal(csv_open(&r, "/nonexistent/x.csv", &e), -1);
    assert_string_equal(e.msg, "/nonexistent/x.csv: No such file or directory");
    assert_int_equal(e.code, ENOENT);
    csv_close(&r); /* harmless on a reader that failed to open */

    assert_int_equal(csv_open(&r, "/tmp", &e), -1);
    assert_string_equal(e.msg, "/tmp: read: Is a directory");
    csv_close(&r);
}

/* A file larger than the 64 KiB I/O buffer, whose 13-byte records straddle
 * the buffer boundaries at every offset, including between the two quotes of
 * an escaped quote and between CR and LF. */
static void test_file_buffer_boundaries(void **state)
{
    (void)state;
    static const char rec[] = "\"a\"\"b\",cdef\r\n";
    enum { NREC = 80000 };
    assert_int_equal(strlen(rec), 13);

    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/muster-csv-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("\xEF\xBB\xBFq,w\r\n", f);
    for (int k = 0; k < NREC; k++)
        fputs(rec, f);
    assert_int_equal(fclose(f), 0);

    struct csv_reader r;
    struct err e = {0};
    assert_int_equal(csv_open(&r, path, &e), 0);
    assert_int_equal(csv_read_header(&r, &e), 0);
    assert_int_equal(csv_col(&r, "q"), 0);
    long n = 0;
    int rc;
    while ((rc = csv_next(&r, &e)) == 1) {
        size_t len;
        assert_string_equal(csv_field(&r, 0, &len), "a\"b");
        assert_int_equal(len, 3);
        assert_string_equal(csv_field(&r, 1, NULL), "cdef");
        n++;
        assert_int_equal(csv_line(&r), n + 1);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, NREC);
    csv_close(&r);
    unlink(path);
}

/* The real traces. */

static const char *traces_dir(void)
{
    const char *dir = getenv("MUSTER_TRACES");
    if (!dir)
        print_message("MUSTER_TRACES is not set; ctest sets it\n");
    return dir;
}

static void open_trace(struct csv_reader *r, const char *rel)
{
    const char *dir = traces_dir();
    if (!dir)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct err e = {0};
    if (csv_open(r, path, &e) < 0)
        fail_msg("%s", e.msg);
    if (csv_read_header(r, &e) < 0)
        fail_msg("%s", e.msg);
}

static const char *const pod_cols[] = {
    "name", "cpu_milli", "memory_mib",    "num_gpu",       "gpu_milli",     "gpu_spec",
    "qos",  "pod_phase", "creation_time", "deletion_time", "scheduled_time"};

static void test_openb_default_pods(void **state)
{
    (void)state;
    struct csv_reader r;
    struct err e = {0};
    open_trace(&r, "alibaba-v2023/openb_pod_list_default.csv");
    assert_int_equal(csv_nfields(&r), 11);
    assert_true(csv_col(&r, "gpu_milli") >= 0);
    int c[11];
    if (csv_require_cols(&r, pod_cols, 11, c, &e) < 0)
        fail_msg("%s", e.msg);

    /* The README's breakdown of the default trace. */
    long n = 0, by_gpu[9] = {0}, shared = 0, pending = 0;
    int rc;
    while ((rc = csv_next(&r, &e)) == 1) {
        int64_t v, num_gpu, gpu_milli;
        const char *s, *phase;
        if (csv_get_str(&r, c[0], 1, 64, &s, NULL, &e) < 0 ||
            csv_get_i64(&r, c[1], 0, INT64_MAX, &v, &e) < 0 ||
            csv_get_i64(&r, c[2], 0, INT64_MAX, &v, &e) < 0 ||
            csv_get_i64(&r, c[3], 0, 8, &num_gpu, &e) < 0 ||
            csv_get_i64(&r, c[4], 0, 1000, &gpu_milli, &e) < 0 ||
            csv_get_str(&r, c[7], 1, 16, &phase, NULL, &e) < 0 ||
            csv_get_i64(&r, c[8], 0, INT64_MAX, &v, &e) < 0 ||
            csv_get_i64(&r, c[9], 0, INT64_MAX, &v, &e) < 0)
            fail_msg("%s", e.msg);
        /* Pods never scheduled have no scheduled_time, and only those. */
        if (strcmp(phase, "Pending") == 0) {
            size_t len;
            csv_field(&r, c[10], &len);
            assert_int_equal(len, 0);
            pending++;
        } else if (csv_get_i64(&r, c[10], 0, INT64_MAX, &v, &e) < 0) {
            fail_msg("%s", e.msg);
        }
        by_gpu[num_gpu]++;
        if (num_gpu == 1 && gpu_milli < 1000)
            shared++;
        n++;
    }
    if (rc < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(n, 8152);
    assert_int_equal(by_gpu[0], 1088);
    assert_int_equal(by_gpu[1], 6989);
    assert_int_equal(shared, 3078);
    assert_int_equal(by_gpu[2], 16);
    assert_int_equal(by_gpu[4], 15);
    assert_int_equal(by_gpu[8], 44);
    assert_int_equal(pending, 897);
    csv_close(&r);
}

static void test_openb_all_pod_files(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int ncols;
    } files[] = {
        {"alibaba-v2023/openb_pod_list_default.csv", 11},
        {"alibaba-v2023/openb_pod_list_gpushare40.csv", 11},
        {"alibaba-v2023/openb_pod_list_gpuspec20.csv", 11},
        {"alibaba-v2023/openb_pod_list_cpu100.csv", 11},
        {"alibaba-v2023/openb_pod_list_multigpu30.csv", 5},
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        struct csv_reader r;
        struct err e = {0};
        open_trace(&r, files[k].file);
        assert_int_equal(csv_nfields(&r), files[k].ncols);
        int c[5];
        if (csv_require_cols(&r, pod_cols, 5, c, &e) < 0)
            fail_msg("%s", e.msg);
        if (files[k].ncols == 5)
            assert_int_equal(csv_col(&r, "gpu_spec"), -1);
        long n = 0;
        int rc;
        while ((rc = csv_next(&r, &e)) == 1) {
            int64_t v;
            for (int i = 1; i < 5; i++)
                if (csv_get_i64(&r, c[i], 0, INT64_MAX, &v, &e) < 0)
                    fail_msg("%s", e.msg);
            n++;
        }
        if (rc < 0)
            fail_msg("%s", e.msg);
        assert_true(n > 7000);
        csv_close(&r);
    }
}

static void test_openb_gpu_nodes(void **state)
{
    (void)state;
    static const char *const cols[] = {"sn", "cpu_milli", "memory_mib", "gpu", "model"};
    struct csv_reader r;
    struct err e = {0};
    int c[5];
    open_trace(&r, "alibaba-v2023/openb_node_list_gpu_node.csv");
    if (csv_require_cols(&r, cols, 5, c, &e) < 0)
        fail_msg("%s", e.msg);
    long n = 0;
    int64_t gpus = 0, g;
    int rc;
    while ((rc = csv_next(&r, &e)) == 1) {
        if (csv_get_i64(&r, c[3], 0, 64, &g, &e) < 0)
            fail_msg("%s", e.msg);
        gpus += g;
        n++;
    }
    if (rc < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(n, 1213);
    assert_int_equal(gpus, 6212);
    csv_close(&r);
}

static void test_philly_jobs(void **state)
{
    (void)state;
    static const char *const cols[] = {"timestamp", "duration", "num_gpus", "gpu_time", "cluster"};
    struct csv_reader r;
    struct err e = {0};
    int c[5];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    open_trace(&r, "philly/philly_jobs.csv");
    if (csv_require_cols(&r, cols, 5, c, &e) < 0)
        fail_msg("%s", e.msg);
    long n = 0;
    int rc;
    while ((rc = csv_next(&r, &e)) == 1) {
        double d;
        int64_t g;
        const char *ts;
        size_t len;
        if (csv_get_str(&r, c[0], 19, 19, &ts, &len, &e) < 0 ||
            csv_get_f64(&r, c[1], 0, 1e9, &d, &e) < 0 ||
            csv_get_i64(&r, c[2], 1, 1024, &g, &e) < 0 ||
            csv_get_f64(&r, c[3], 0, 1e12, &d, &e) < 0)
            fail_msg("%s", e.msg);
        n++;
    }
    if (rc < 0)
        fail_msg("%s", e.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(n, 82247);
    print_message("philly: %ld records in %.1f ms\n", n,
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    csv_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_inputs),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_line_cap),
        cmocka_unit_test(test_field_cap),
        cmocka_unit_test(test_get_i64),
        cmocka_unit_test(test_get_i64_without_header),
        cmocka_unit_test(test_get_f64),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_file_buffer_boundaries),
        cmocka_unit_test(test_openb_default_pods),
        cmocka_unit_test(test_openb_all_pod_files),
        cmocka_unit_test(test_openb_gpu_nodes),
        cmocka_unit_test(test_philly_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
