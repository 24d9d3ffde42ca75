/*
 * svg: layout, ticks and XML output for line charts.
 *
 * Layout in pixels: the title sits above the plot, tick labels and the x label
 * below it, the rotated y label to its left, and the legend to its right in a
 * column sized from the longest series name (estimated, since an SVG writer
 * cannot measure text).
 */
#include "sim/svg.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"

#define SVG__DEFAULT_WIDTH  800
#define SVG__DEFAULT_HEIGHT 500
#define SVG__MIN_SIZE       200
/* Ticks aimed for on each axis; rounding the step lands on 4 to 9. */
#define SVG__TARGET_TICKS 6
/* A backstop on tick loops, should rounding ever misbehave. */
#define SVG__MAX_TICKS 50
/* Points are clamped this far outside the plot before printing: the clip path
 * hides them anyway, and it keeps coordinates printable for wild data. */
#define SVG__CLAMP_PX 1e6
/* Consecutive points closer than this in both directions are merged. */
#define SVG__MIN_STEP_PX 0.5
/* Rough width of one character of 12px sans-serif, for sizing the legend. */
#define SVG__CHAR_PX 7

/*
 * Okabe and Ito's palette ("Color Universal Design", 2008), reordered so the
 * first few colours are the most distinct on white; the yellow, weakest on
 * white, comes last. Past eight series the colours repeat with a dash pattern.
 */
static const char *const svg__palette[] = {
    "#0072B2", /* blue */
    "#D55E00", /* vermillion */
    "#009E73", /* bluish green */
    "#CC79A7", /* reddish purple */
    "#E69F00", /* orange */
    "#56B4E9", /* sky blue */
    "#000000", /* black */
    "#F0E442", /* yellow */
};
#define SVG__NCOLORS ((int)(sizeof svg__palette / sizeof svg__palette[0]))

static const char *const svg__dashes[] = {NULL, "7 4", "2 3", "9 3 2 3"};
#define SVG__NDASHES ((int)(sizeof svg__dashes / sizeof svg__dashes[0]))

static char *svg__dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void svg_chart_init(struct svg_chart *c, const char *title, const char *x_label,
                    const char *y_label)
{
    memset(c, 0, sizeof *c);
    c->title = svg__dup_or_null(title);
    c->x_label = svg__dup_or_null(x_label);
    c->y_label = svg__dup_or_null(y_label);
    c->width = SVG__DEFAULT_WIDTH;
    c->height = SVG__DEFAULT_HEIGHT;
}

void svg_chart_release(struct svg_chart *c)
{
    free(c->title);
    free(c->x_label);
    free(c->y_label);
    for (int i = 0; i < c->nseries; i++) {
        free(c->series[i].name);
        free(c->series[i].pts);
    }
    free(c->series);
    for (int i = 0; i < c->nvlines; i++)
        free(c->vlines[i].label);
    free(c->vlines);
    memset(c, 0, sizeof *c);
}

void svg_chart_size(struct svg_chart *c, int width, int height)
{
    c->width = width < SVG__MIN_SIZE ? SVG__MIN_SIZE : width;
    c->height = height < SVG__MIN_SIZE ? SVG__MIN_SIZE : height;
}

void svg_chart_x_range(struct svg_chart *c, double min, double max)
{
    assert(isfinite(min) && isfinite(max) && min < max);
    c->x_fixed = true;
    c->x_min = min;
    c->x_max = max;
}

void svg_chart_y_range(struct svg_chart *c, double min, double max)
{
    assert(isfinite(min) && isfinite(max) && min < max);
    c->y_fixed = true;
    c->y_min = min;
    c->y_max = max;
}

int svg_chart_add_series(struct svg_chart *c, const char *name)
{
    if (c->nseries == c->series_cap) {
        c->series_cap = c->series_cap ? 2 * c->series_cap : 8;
        c->series = xreallocarray(c->series, (size_t)c->series_cap, sizeof c->series[0]);
    }
    struct svg_series *s = &c->series[c->nseries];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name ? name : "");
    return c->nseries++;
}

void svg_chart_add_point(struct svg_chart *c, int idx, double x, double y)
{
    assert(idx >= 0 && idx < c->nseries);
    if (!isfinite(x) || !isfinite(y))
        return;
    struct svg_series *s = &c->series[idx];
    if (s->npts == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->pts = xreallocarray(s->pts, s->cap, sizeof s->pts[0]);
    }
    s->pts[s->npts++] = (struct svg_point){x, y};
}

void svg_chart_vline(struct svg_chart *c, double x, const char *label)
{
    if (!isfinite(x))
        return;
    if (c->nvlines == c->vlines_cap) {
        c->vlines_cap = c->vlines_cap ? 2 * c->vlines_cap : 4;
        c->vlines = xreallocarray(c->vlines, (size_t)c->vlines_cap, sizeof c->vlines[0]);
    }
    c->vlines[c->nvlines++] = (struct svg_vline){x, svg__dup_or_null(label)};
}

/* ---- axes ---------------------------------------------------------------- */

struct svg__axis {
    double min, max; /* the drawn range */
    double step;     /* distance between ticks, 1, 2 or 5 times a power of ten */
    int decimals;    /* digits after the point in tick labels */
};

/* The "nice number" nearest x: 1, 2, 5 or 10 times a power of ten (after
 * Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990). */
static double svg__nice(double x)
{
    double p = pow(10.0, floor(log10(x)));
    double f = x / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static void svg__axis_make(struct svg__axis *a, double lo, double hi, bool fixed)
{
    if (!(hi - lo > 0) || !isfinite(hi - lo)) {
        /* One distinct value (or an unplottable spread): centre it in a
         * small range so it still draws. */
        double pad = (lo == 0 || !isfinite(lo)) ? 1 : fabs(lo) * 0.1;
        if (!isfinite(lo))
            lo = 0;
        hi = lo + pad;
        lo -= pad;
    }
    a->step = svg__nice((hi - lo) / (SVG__TARGET_TICKS - 1));
    if (fixed) {
        a->min = lo;
        a->max = hi;
    } else {
        a->min = floor(lo / a->step) * a->step;
        a->max = ceil(hi / a->step) * a->step;
    }
    double d = ceil(-log10(a->step) - 1e-9);
    a->decimals = d < 0 ? 0 : d > 12 ? 12 : (int)d;
}

/* The k-th tick at or after a->min, computed from k rather than accumulated so
 * rounding errors do not drift. */
static double svg__tick(const struct svg__axis *a, int k)
{
    double t = (ceil(a->min / a->step - 1e-9) + k) * a->step;
    if (fabs(t) < a->step * 1e-9)
        t = 0; /* never print "-0" */
    return t;
}

static bool svg__tick_in(const struct svg__axis *a, double t)
{
    return t <= a->max + a->step * 1e-9;
}

static void svg__tick_label(const struct svg__axis *a, double t, char *buf, size_t cap)
{
    if (fabs(t) >= 1e9)
        snprintf(buf, cap, "%g", t);
    else
        snprintf(buf, cap, "%.*f", a->decimals, t);
}

/* ---- output -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence for a character XML allows at s, or 0.
 * s is NUL-terminated, so a truncated sequence stops at the NUL. */
static size_t svg__utf8_char(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    unsigned long cp = c & (0x3F >> (n - 1));
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    static const unsigned long min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
        cp == 0xFFFF)
        return 0;
    return n;
}

/* Writes s as XML character data, safe both in text and in attribute values. */
static void svg__put_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            p++;
            continue;
        case '<':
            fputs("&lt;", f);
            p++;
            continue;
        case '>':
            fputs("&gt;", f);
            p++;
            continue;
        case '"':
            fputs("&quot;", f);
            p++;
            continue;
        case '\'':
            fputs("&apos;", f);
            p++;
            continue;
        default:
            break;
        }
        size_t n = svg__utf8_char(p);
        if (n == 0) {
            fputc('?', f);
            p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
}

struct svg__frame {
    double left, top, width, height; /* the plot area */
    struct svg__axis x, y;
};

static double svg__clamp_px(double v)
{
    return v < -SVG__CLAMP_PX ? -SVG__CLAMP_PX : v > SVG__CLAMP_PX ? SVG__CLAMP_PX : v;
}

static double svg__px(const struct svg__frame *fr, double x)
{
    return svg__clamp_px(fr->left + (x - fr->x.min) / (fr->x.max - fr->x.min) * fr->width);
}

static double svg__py(const struct svg__frame *fr, double y)
{
    return svg__clamp_px(fr->top + fr->height -
                         (y - fr->y.min) / (fr->y.max - fr->y.min) * fr->height);
}

static void svg__data_extent(const struct svg_chart *c, double *xlo, double *xhi, double *ylo,
                             double *yhi)
{
    *xlo = *ylo = INFINITY;
    *xhi = *yhi = -INFINITY;
    for (int i = 0; i < c->nseries; i++) {
        const struct svg_series *s = &c->series[i];
        for (size_t k = 0; k < s->npts; k++) {
            *xlo = fmin(*xlo, s->pts[k].x);
            *xhi = fmax(*xhi, s->pts[k].x);
            *ylo = fmin(*ylo, s->pts[k].y);
            *yhi = fmax(*yhi, s->pts[k].y);
        }
    }
    for (int i = 0; i < c->nvlines; i++) {
        *xlo = fmin(*xlo, c->vlines[i].x);
        *xhi = fmax(*xhi, c->vlines[i].x);
    }
    /* No data at all: a unit square. */
    if (*xlo > *xhi) {
        *xlo = 0;
        *xhi = 1;
    }
    if (*ylo > *yhi) {
        *ylo = 0;
        *yhi = 1;
    }
}

static void svg__layout(const struct svg_chart *c, struct svg__frame *fr)
{
    double xlo, xhi, ylo, yhi;
    svg__data_extent(c, &xlo, &xhi, &ylo, &yhi);
    if (c->x_fixed) {
        xlo = c->x_min;
        xhi = c->x_max;
    }
    if (c->y_fixed) {
        ylo = c->y_min;
        yhi = c->y_max;
    }
    svg__axis_make(&fr->x, xlo, xhi, c->x_fixed);
    svg__axis_make(&fr->y, ylo, yhi, c->y_fixed);

    size_t longest = 0;
    for (int i = 0; i < c->nseries; i++) {
        size_t n = strlen(c->series[i].name);
        longest = n > longest ? n : longest;
    }
    double legend = 24;
    if (c->nseries > 0) {
        legend = 16 + 30 + (double)longest * SVG__CHAR_PX + 16;
        legend = legend < 100 ? 100 : legend > 280 ? 280 : legend;
    }
    fr->left = 72;
    fr->top = c->title ? 44 : 20;
    fr->width = c->width - fr->left - legend;
    fr->height = c->height - fr->top - 56;
    if (fr->width < 40)
        fr->width = 40;
    if (fr->height < 40)
        fr->height = 40;
}

static void svg__write_axes(const struct svg_chart *c, const struct svg__frame *fr, FILE *f)
{
    char label[64];
    double right = fr->left + fr->width, bottom = fr->top + fr->height;

    fputs("<g stroke=\"#dddddd\" stroke-width=\"1\">\n", f);
    for (int k = 0; k <= SVG__MAX_TICKS && svg__tick_in(&fr->x, svg__tick(&fr->x, k)); k++) {
        double px = svg__px(fr, svg__tick(&fr->x, k));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px, fr->top, px,
                bottom);
    }
    for (int k = 0; k <= SVG__MAX_TICKS && svg__tick_in(&fr->y, svg__tick(&fr->y, k)); k++) {
        double py = svg__py(fr, svg__tick(&fr->y, k));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", fr->left, py, right,
                py);
    }
    fputs("</g>\n", f);

    fputs("<g fill=\"#333333\">\n", f);
    for (int k = 0; k <= SVG__MAX_TICKS && svg__tick_in(&fr->x, svg__tick(&fr->x, k)); k++) {
        double t = svg__tick(&fr->x, k);
        svg__tick_label(&fr->x, t, label, sizeof label);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", svg__px(fr, t),
                bottom + 18, label);
    }
    for (int k = 0; k <= SVG__MAX_TICKS && svg__tick_in(&fr->y, svg__tick(&fr->y, k)); k++) {
        double t = svg__tick(&fr->y, k);
        svg__tick_label(&fr->y, t, label, sizeof label);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", fr->left - 8,
                svg__py(fr, t) + 4, label);
    }
    fputs("</g>\n", f);

    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333333\"/>\n",
            fr->left, fr->top, fr->width, fr->height);
    if (c->x_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fr->left + fr->width / 2,
                bottom + 42);
        svg__put_text(f, c->x_label);
        fputs("</text>\n", f);
    }
    if (c->y_label) {
        double cx = 20, cy = fr->top + fr->height / 2;
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 %.1f %.1f)\">",
                cx, cy, cx, cy);
        svg__put_text(f, c->y_label);
        fputs("</text>\n", f);
    }
}

static void svg__write_style(FILE *f, int i)
{
    fprintf(f, "stroke=\"%s\"", svg__palette[i % SVG__NCOLORS]);
    const char *dash = svg__dashes[(i / SVG__NCOLORS) % SVG__NDASHES];
    if (dash)
        fprintf(f, " stroke-dasharray=\"%s\"", dash);
}

static void svg__write_data(const struct svg_chart *c, const struct svg__frame *fr, FILE *f)
{
    fputs("<g clip-path=\"url(#plot-area)\" fill=\"none\">\n", f);
    for (int i = 0; i < c->nvlines; i++) {
        double px = svg__px(fr, c->vlines[i].x);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#777777\" "
                "stroke-dasharray=\"5 4\"/>\n",
                px, fr->top, px, fr->top + fr->height);
    }
    for (int i = 0; i < c->nseries; i++) {
        const struct svg_series *s = &c->series[i];
        if (s->npts == 0)
            continue;
        fputs("<polyline stroke-width=\"2\" stroke-linejoin=\"round\" ", f);
        svg__write_style(f, i);
        fputs(" points=\"", f);
        /* Long runs put thousands of points on a few hundred pixels. A point
         * within half a pixel of the last one written moves the line by less
         * than its own width, so it is dropped (the final point never is):
         * charts of 10k-point series stay small and quick to open. */
        double lx = 0, ly = 0;
        for (size_t k = 0; k < s->npts; k++) {
            double px = svg__px(fr, s->pts[k].x), py = svg__py(fr, s->pts[k].y);
            if (k > 0 && k + 1 < s->npts && fabs(px - lx) < SVG__MIN_STEP_PX &&
                fabs(py - ly) < SVG__MIN_STEP_PX)
                continue;
            fprintf(f, "%s%.1f,%.1f", k ? " " : "", px, py);
            lx = px;
            ly = py;
        }
        fputs("\"/>\n", f);
    }
    fputs("</g>\n", f);

    for (int i = 0; i < c->nvlines; i++) {
        const struct svg_vline *v = &c->vlines[i];
        if (!v->label || v->x < fr->x.min || v->x > fr->x.max)
            continue;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555555\" font-size=\"11\">",
                svg__px(fr, v->x) + 4, fr->top + 14);
        svg__put_text(f, v->label);
        fputs("</text>\n", f);
    }
}

static void svg__write_legend(const struct svg_chart *c, const struct svg__frame *fr, FILE *f)
{
    if (c->nseries == 0)
        return;
    double x = fr->left + fr->width + 16, y = fr->top + 8;
    fputs("<g>\n", f);
    for (int i = 0; i < c->nseries; i++, y += 18) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"2\" ", x,
                y, x + 24, y);
        svg__write_style(f, i);
        fputs("/>\n", f);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 30, y + 4);
        svg__put_text(f, c->series[i].name);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

static void svg__write_all(const struct svg_chart *c, FILE *f)
{
    struct svg__frame fr;
    svg__layout(c, &fr);

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
            "font-size=\"12\">\n",
            c->width, c->height, c->width, c->height);
    if (c->title) {
        fputs("<title>", f);
        svg__put_text(f, c->title);
        fputs("</title>\n", f);
    }
    fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
    fprintf(f,
            "<defs><clipPath id=\"plot-area\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/></clipPath></defs>\n",
            fr.left, fr.top, fr.width, fr.height);
    if (c->title) {
        fprintf(f, "<text x=\"%.1f\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">",
                c->width / 2.0);
        svg__put_text(f, c->title);
        fputs("</text>\n", f);
    }
    svg__write_axes(c, &fr, f);
    svg__write_data(c, &fr, f);
    svg__write_legend(c, &fr, f);
    fputs("</svg>\n", f);
}

int svg_chart_write(const struct svg_chart *c, const char *path, struct err *e)
{
    FILE *f = fopen(path, "we");
    if (!f)
        return errf(e, errno, "%s: %s", path, strerror(errno));
    errno = 0;
    svg__write_all(c, f);
    /* Errors stick to the stream, so one check after writing catches them all;
     * fclose() reports what was still buffered. */
    int code = ferror(f) ? (errno ? errno : EIO) : 0;
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (fclose(f) != 0 && !code)
        code = errno ? errno : EIO;
    if (code) {
        /* A half-written chart misleads; but a path that is not a regular
         * file (a device, a FIFO) is not ours to remove. */
        if (regular)
            remove(path);
        return errf(e, code, "%s: write: %s", path, strerror(code));
    }
    return 0;
}
