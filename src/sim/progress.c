/*
 * progress: drawing the bar.
 *
 * Each draw formats the whole line into one buffer and hands it to a single
 * write(), so the terminal never shows half a line, and ends with "erase to end
 * of line" so a shorter line leaves no leftovers from a longer one.
 */
#include "sim/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/mtime.h"

#define PROGRESS__INTERVAL_S 0.1
#define PROGRESS__BAR_MIN    10
#define PROGRESS__BAR_MAX    40

static double progress__now(void)
{
    return (double)mtime_now_ns() / 1e9;
}

/* Terminal width, so the bar never wraps (a wrapped line breaks the in-place
 * redraw); 80 when it cannot be asked. */
static int progress__columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Formats seconds as m:ss or h:mm:ss. */
static void progress__fmt_time(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 359999)
        s = 359999; /* 99:59:59: estimates past four days are noise anyway */
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%lu:%02lu", t / 60, t % 60);
}

static void progress__draw(struct progress *p, double now, bool final)
{
    char line[512], tail[48], when[32];
    double elapsed = now - p->start_s;
    uint64_t done = p->total && p->done > p->total ? p->total : p->done;

    if (final) {
        progress__fmt_time(elapsed, when, sizeof when);
        snprintf(tail, sizeof tail, "in %s", when);
    } else if (done > 0 && p->total && elapsed > 0) {
        progress__fmt_time(elapsed * (double)(p->total - done) / (double)done, when, sizeof when);
        snprintf(tail, sizeof tail, "ETA %s", when);
    } else {
        snprintf(tail, sizeof tail, "ETA --:--");
    }

    int n;
    if (p->total) {
        double frac = (double)done / (double)p->total;
        char counts[128];
        snprintf(counts, sizeof counts, "%5.1f%%  %llu/%llu  %s", frac * 100,
                 (unsigned long long)done, (unsigned long long)p->total, tail);
        /* Label, space, brackets, two spaces, counts; the bar takes the rest. */
        int bar = progress__columns() - 1 - (int)strlen(p->label) - 5 - (int)strlen(counts);
        bar = bar > PROGRESS__BAR_MAX ? PROGRESS__BAR_MAX : bar;
        bar = bar < PROGRESS__BAR_MIN ? PROGRESS__BAR_MIN : bar;
        int fill = (int)(frac * bar);
        char bars[PROGRESS__BAR_MAX + 1];
        memset(bars, '#', (size_t)fill);
        memset(bars + fill, '.', (size_t)(bar - fill));
        bars[bar] = '\0';
        n = snprintf(line, sizeof line, "\r%s [%s]  %s\033[K%s", p->label, bars, counts,
                     final ? "\n" : "");
    } else {
        n = snprintf(line, sizeof line, "\r%s  %llu  %s\033[K%s", p->label,
                     (unsigned long long)done, final ? tail : "", final ? "\n" : "");
    }
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        /* A failed write to the terminal loses one frame of a cosmetic bar;
         * there is nothing better to do with the error. */
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
    }
    p->drawn = !final;
    p->last_draw_s = now;
}

void progress_init(struct progress *p, const char *label, uint64_t total)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->enabled = isatty(STDERR_FILENO) && getenv("MUSTER_NO_PROGRESS") == NULL;
    p->start_s = progress__now();
}

void progress_update(struct progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled)
        return;
    double now = progress__now();
    if (p->drawn && now - p->last_draw_s < PROGRESS__INTERVAL_S)
        return;
    progress__draw(p, now, false);
}

void progress_finish(struct progress *p)
{
    if (p->enabled)
        progress__draw(p, progress__now(), true);
    p->enabled = false;
}
