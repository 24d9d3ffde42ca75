/*
 * progress: a one-line progress bar on stderr for long simulator runs.
 *
 * A sweep over policies and seeds can run for minutes; a bar with an ETA tells
 * the person at the terminal whether to wait or to go for coffee. It is meant
 * for people only, so it draws nothing unless stderr is a terminal, and nothing
 * when the environment variable MUSTER_NO_PROGRESS is set (to any value, even
 * empty): logs, pipes and test runs stay clean. It redraws at most ten times a
 * second, so calling progress_update() after every unit of work is cheap.
 *
 * The line reads "LABEL [#########.........]  45.2%  1234/5000  ETA 0:12" and is
 * redrawn in place with a carriage return; progress_finish() leaves the final
 * state on its own line. Other output to stderr between init and finish would
 * be overdrawn, so print it after progress_finish().
 *
 * Ownership: the caller embeds a struct progress; it holds no resources (the
 * label is copied, truncated to PROGRESS_LABEL_MAX bytes), so there is nothing
 * to release beyond calling progress_finish().
 */
#ifndef MUSTER_SIM_PROGRESS_H
#define MUSTER_SIM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_LABEL_MAX 40

struct progress {
    char label[PROGRESS_LABEL_MAX + 1];
    uint64_t total; /* 0: unknown, show a count without a bar */
    uint64_t done;
    bool enabled;   /* stderr is a terminal and MUSTER_NO_PROGRESS is unset */
    bool drawn;     /* something is on the line */
    double start_s; /* monotonic seconds at init */
    double last_draw_s;
};

/* Starts a bar for total units of work (0 if unknown). Decides once whether to
 * draw at all. Draws nothing yet. */
void progress_init(struct progress *p, const char *label, uint64_t total);

/* Records that done units are complete and redraws if the last draw was at
 * least 100 ms ago. done beyond total is shown as total. */
void progress_update(struct progress *p, uint64_t done);

/* Draws the final state with the elapsed time and ends the line, if the bar
 * is enabled. The struct may be reused with progress_init() afterwards. */
void progress_finish(struct progress *p);

#endif
