/*
 * Tests for sim/svg: charts written to a temporary file and read back. The
 * checks are structural: a small tag matcher for well-formedness, entity
 * checks for escaping, and the strings the chart must contain (series names,
 * round tick labels, markers). A full XML parse is left to the manual check
 * with python3's xml.dom.minidom (see the commit message).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/err.h"
#include "sim/svg.h"

/* Writes c to a fresh temporary file and returns its contents (caller frees). */
static char *write_and_read(const struct svg_chart *c)
{
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/muster-svg-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct err e = {0};
    if (svg_chart_write(c, path, &e) < 0)
        fail_msg("%s", e.msg);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    char *buf = xmalloc((size_t)size + 1);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    unlink(path);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/*
 * Checks the document is well-formed as far as this writer's output goes: one
 * XML declaration, tags that nest and close in order, attribute values with no
 * '<', every '&' starting a predefined entity, and nothing after the root.
 */
static void check_well_formed(const char *doc)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    char stack[32][32];
    int depth = 0, roots = 0;
    const char *p = doc;

    assert_true(strncmp(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
    p += 39;
    while (*p) {
        if (*p == '&') {
            bool ok = false;
            for (size_t k = 0; k < 5; k++)
                ok = ok || strncmp(p, entities[k], strlen(entities[k])) == 0;
            if (!ok)
                fail_msg("bare '&' at offset %td: %.30s", p - doc, p);
            p++;
            continue;
        }
        if (*p == '>')
            fail_msg("stray '>' at offset %td", p - doc);
        if (*p != '<') {
            if (depth == 0 && *p != '\n')
                fail_msg("text outside the root at offset %td", p - doc);
            p++;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + (closing ? 2 : 1);
        size_t nlen = strcspn(name, " />\n");
        assert_true(nlen > 0 && nlen < sizeof stack[0]);
        /* Find the end of the tag, skipping quoted attribute values. */
        const char *q = name + nlen;
        while (*q && *q != '>') {
            if (*q == '"') {
                const char *end = strchr(q + 1, '"');
                assert_non_null(end);
                for (const char *v = q + 1; v < end; v++)
                    if (*v == '<')
                        fail_msg("'<' in an attribute value at offset %td", v - doc);
                q = end;
            }
            q++;
        }
        assert_int_equal(*q, '>');
        bool empty = q[-1] == '/';
        if (closing) {
            assert_true(depth > 0);
            depth--;
            if (strncmp(stack[depth], name, nlen) != 0 || stack[depth][nlen] != '\0')
                fail_msg("</%.*s> closes <%s>", (int)nlen, name, stack[depth]);
        } else if (!empty) {
            if (depth == 0)
                roots++;
            assert_true(depth < 32);
            memcpy(stack[depth], name, nlen);
            stack[depth][nlen] = '\0';
            depth++;
        }
        p = q + 1;
    }
    assert_int_equal(depth, 0);
    assert_int_equal(roots, 1);
}

static void test_chart_contents(void **state)
{
    (void)state;
    struct svg_chart c;
    svg_chart_init(&c, "GPU <fragmentation> & \"more\"", "Arrived load (%)", "Unallocated GPU (%)");
    int a = svg_chart_add_series(&c, "fgd");
    int b = svg_chart_add_series(&c, "best<fit>");
    int d = svg_chart_add_series(&c, "r&d 'x'");
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(d, 2);
    for (int k = 0; k <= 130; k++) {
        svg_chart_add_point(&c, a, k, 100.0 - k * 0.5);
        svg_chart_add_point(&c, b, k, 90.0 - k * 0.4);
        svg_chart_add_point(&c, d, k, 3.0 + k * 0.1);
    }
    svg_chart_add_point(&c, a, NAN, 5); /* ignored */
    svg_chart_add_point(&c, b, 5, INFINITY);
    svg_chart_vline(&c, 100, "100%");

    char *doc = write_and_read(&c);
    check_well_formed(doc);
    assert_non_null(strstr(doc, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    size_t len = strlen(doc);
    assert_string_equal(doc + len - 7, "</svg>\n");

    /* Titles and names, escaped. */
    assert_non_null(strstr(doc, "<title>GPU &lt;fragmentation&gt; &amp; &quot;more&quot;</title>"));
    assert_non_null(strstr(doc, ">fgd</text>"));
    assert_non_null(strstr(doc, ">best&lt;fit&gt;</text>"));
    assert_non_null(strstr(doc, ">r&amp;d &apos;x&apos;</text>"));
    assert_null(strstr(doc, "best<fit>"));
    assert_non_null(strstr(doc, ">Arrived load (%)</text>"));
    assert_non_null(strstr(doc, ">Unallocated GPU (%)</text>"));

    /* One polyline per series, in distinct colours, and the marker. */
    assert_int_equal(count(doc, "<polyline"), 3);
    assert_int_equal(count(doc, "stroke=\"#0072B2\""), 2); /* line and legend */
    assert_int_equal(count(doc, "stroke=\"#D55E00\""), 2);
    assert_int_equal(count(doc, "stroke=\"#009E73\""), 2);
    assert_non_null(strstr(doc, ">100%</text>"));

    /* x spans 0..130: round ticks every 20 up to 140. y spans 3..100: every 20. */
    static const char *const ticks[] = {">0</text>",   ">20</text>",  ">40</text>",
                                        ">100</text>", ">120</text>", ">140</text>"};
    for (size_t k = 0; k < sizeof ticks / sizeof ticks[0]; k++)
        if (!strstr(doc, ticks[k]))
            fail_msg("no tick label %s", ticks[k]);
    assert_null(strstr(doc, ">160</text>"));
    assert_null(strstr(doc, "-0<"));
    assert_null(strstr(doc, "nan"));

    free(doc);
    svg_chart_release(&c);
}

static void test_fixed_ranges_and_decimals(void **state)
{
    (void)state;
    struct svg_chart c;
    svg_chart_init(&c, NULL, NULL, NULL);
    svg_chart_size(&c, 640, 400);
    int s = svg_chart_add_series(&c, "share");
    for (int k = 0; k <= 10; k++)
        svg_chart_add_point(&c, s, k * 0.1, k * 0.1 * k * 0.1);
    svg_chart_add_point(&c, s, 2.0, 1e300); /* far outside the fixed range: clipped */
    svg_chart_y_range(&c, 0, 1);

    char *doc = write_and_read(&c);
    check_well_formed(doc);
    assert_non_null(strstr(doc, "width=\"640\" height=\"400\""));
    assert_null(strstr(doc, "<title>"));
    assert_non_null(strstr(doc, ">0.0</text>"));
    assert_non_null(strstr(doc, ">0.2</text>"));
    assert_non_null(strstr(doc, ">1.0</text>"));
    assert_non_null(strstr(doc, "clip-path=\"url(#plot-area)\""));
    assert_null(strstr(doc, "inf"));
    free(doc);
    svg_chart_release(&c);
}

static void test_bad_text_and_many_series(void **state)
{
    (void)state;
    struct svg_chart c;
    svg_chart_init(&c, "ctl\x01 and bad utf8 \xff\xc3 end", "\xc3\xa9t\xc3\xa9", "]]> <!-- -->");
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "policy %d", i);
        int s = svg_chart_add_series(&c, name);
        svg_chart_add_point(&c, s, 0, i);
        svg_chart_add_point(&c, s, 1, i + 1);
    }
    int empty = svg_chart_add_series(&c, "no points");

    char *doc = write_and_read(&c);
    check_well_formed(doc);
    assert_non_null(strstr(doc, ">ctl? and bad utf8 ?? end</text>"));
    assert_non_null(strstr(doc, ">\xc3\xa9t\xc3\xa9</text>"));
    assert_non_null(strstr(doc, ">]]&gt; &lt;!-- --&gt;</text>"));
    assert_non_null(strstr(doc, ">policy 19</text>"));
    assert_non_null(strstr(doc, ">no points</text>"));
    assert_int_equal(count(doc, "<polyline"), 20);
    /* Past the eight palette colours, series differ by dash pattern. */
    assert_non_null(strstr(doc, "stroke-dasharray=\"7 4\""));
    assert_non_null(strstr(doc, "stroke-dasharray=\"2 3\""));
    (void)empty;
    free(doc);
    svg_chart_release(&c);
}

static void test_empty_chart(void **state)
{
    (void)state;
    struct svg_chart c;
    svg_chart_init(&c, "nothing yet", "x", "y");
    char *doc = write_and_read(&c);
    check_well_formed(doc);
    assert_int_equal(count(doc, "<polyline"), 0);
    free(doc);
    svg_chart_release(&c);
    svg_chart_release(&c); /* release leaves the chart empty and releasable */
}

static void test_single_point(void **state)
{
    (void)state;
    struct svg_chart c;
    svg_chart_init(&c, "one", "x", "y");
    int s = svg_chart_add_series(&c, "only");
    svg_chart_add_point(&c, s, 5, 5);
    char *doc = write_and_read(&c);
    check_well_formed(doc);
    assert_null(strstr(doc, "nan"));
    assert_null(strstr(doc, "inf"));
    free(doc);
    svg_chart_release(&c);
}

static void test_write_error(void **state)
{
    (void)state;
    struct svg_chart c;
    struct err e = {0};
    svg_chart_init(&c, "t", "x", "y");
    assert_int_equal(svg_chart_write(&c, "/nonexistent-dir/chart.svg", &e), -1);
    assert_string_equal(e.msg, "/nonexistent-dir/chart.svg: No such file or directory");
    assert_int_equal(e.code, ENOENT);
    svg_chart_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart_contents),
        cmocka_unit_test(test_fixed_ranges_and_decimals),
        cmocka_unit_test(test_bad_text_and_many_series),
        cmocka_unit_test(test_empty_chart),
        cmocka_unit_test(test_single_point),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
