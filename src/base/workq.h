/*
 * workq: a fixed pool of threads that run jobs in arrival order.
 *
 * The API server's event loops must never wait (for a group commit, a long
 * list), so they hand such work to a workq and go on serving other sockets; the
 * job's last act is to wake the loop that is waiting for its answer.
 *
 * Jobs are intrusive: the caller embeds a struct workq_job in whatever the job
 * works on (a connection, say) and owns it. Queuing allocates nothing. A job is
 * queued at most once at a time; once its fn has started, the pool no longer
 * touches it, so fn may free or requeue it.
 *
 * Thread-safe: workq_push may be called from any thread, jobs included.
 */
#ifndef MUSTER_BASE_WORKQ_H
#define MUSTER_BASE_WORKQ_H

#include <stddef.h>

struct workq_job {
    void (*fn)(struct workq_job *job); /* set by the caller before workq_push */
    struct workq_job *next;            /* the queue's */
};

struct workq;

/* Starts nthreads (at least 1) threads named name (at most 15 characters, for
 * top and perf). Never fails: aborts if no thread can be started. */
struct workq *workq_create(unsigned nthreads, const char *name);

/* Queues job; one of the threads runs job->fn(job) soon. */
void workq_push(struct workq *q, struct workq_job *job);

/* Jobs queued and not yet started, plus those running. */
size_t workq_busy(struct workq *q);

/* Runs what is queued, waits for the threads to finish and frees the pool. No
 * workq_push may come after the call starts, except from jobs it runs. NULL is
 * allowed. */
void workq_destroy(struct workq *q);

#endif
