/*
 * svg: line charts written as standalone SVG files.
 *
 * The simulator's results are curves (unallocated GPU share against arrived
 * load, one curve per policy), and a chart a person can open in any browser is
 * the quickest way to compare them. This module draws exactly that kind of
 * chart and nothing more: a title, axis labels, round-numbered ticks with
 * gridlines, one polyline per series in a colour-blind-friendly palette (the
 * Okabe-Ito colours, then the same colours dashed), a legend, and optional
 * labelled vertical markers such as x = 100 "100%".
 *
 * Axis ranges are automatic (the data's extent, widened to round ticks) unless
 * fixed with svg_chart_x_range() / svg_chart_y_range(); drawing is clipped to
 * the plot area, so points outside a fixed range are cut off.
 *
 * Ownership: the caller embeds a struct svg_chart, calls svg_chart_init(), and
 * must call svg_chart_release() to free what the chart copied (every string
 * passed in is copied; nothing is borrowed). Text may hold any characters: it
 * is XML-escaped, and bytes that are not valid UTF-8 or not allowed in XML are
 * written as '?', so the output is always well-formed XML.
 */
#ifndef MUSTER_SIM_SVG_H
#define MUSTER_SIM_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct svg_point {
    double x, y;
};

struct svg_series {
    char *name;
    struct svg_point *pts;
    size_t npts, cap;
};

struct svg_vline {
    double x;
    char *label; /* may be NULL */
};

/* Members are read-only to callers; change them through the functions below. */
struct svg_chart {
    char *title, *x_label, *y_label;
    int width, height; /* pixels; 800 x 500 unless svg_chart_size() */
    bool x_fixed, y_fixed;
    double x_min, x_max, y_min, y_max; /* meaningful when *_fixed */
    struct svg_series *series;
    int nseries, series_cap;
    struct svg_vline *vlines;
    int nvlines, vlines_cap;
};

/* Prepares an empty chart. Any of the strings may be NULL (nothing drawn). */
void svg_chart_init(struct svg_chart *c, const char *title, const char *x_label,
                    const char *y_label);

/* Frees everything the chart holds and leaves it empty. */
void svg_chart_release(struct svg_chart *c);

/* Sets the image size in pixels (each at least 200). */
void svg_chart_size(struct svg_chart *c, int width, int height);

/* Fixes an axis range instead of deriving it from the data; min < max. Ticks
 * still fall on round numbers inside the range. */
void svg_chart_x_range(struct svg_chart *c, double min, double max);
void svg_chart_y_range(struct svg_chart *c, double min, double max);

/* Adds a series named name (copied) and returns its index, used with
 * svg_chart_add_point(). Series are drawn and listed in the order added. */
int svg_chart_add_series(struct svg_chart *c, const char *name);

/* Appends a point to series idx. Points are joined in the order given. A point
 * with a non-finite coordinate is ignored. */
void svg_chart_add_point(struct svg_chart *c, int idx, double x, double y);

/* Adds a dashed vertical marker at x with an optional label (copied). Markers
 * count toward the automatic x range. */
void svg_chart_vline(struct svg_chart *c, double x, const char *label);

/* Writes the chart to path, replacing any file there. Returns 0, or -1 with e
 * naming the path and the reason; a partly written file is removed. */
int svg_chart_write(const struct svg_chart *c, const char *path, struct err *e);

#endif
