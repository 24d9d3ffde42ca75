/*
 * workq.c: one mutex, a singly linked FIFO of jobs, and a stack of idle
 * threads, each asleep on its own condition variable.
 *
 * A push wakes one idle thread, and the one that went idle last: its stack and
 * caches are the warmest, and under light load (one client sending requests one
 * after another) the same thread serves them all instead of each request
 * waking a different, cold one. Under load, when every thread is busy, a push
 * is a lock and two pointer stores, and a thread that finishes a job takes the
 * next without sleeping. A woken thread may find its job already taken by one
 * that just finished another; it then goes back on the stack.
 */
#include "base/workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"

struct worker {
    struct workq *q;
    pthread_t th;
    pthread_cond_t cv;
    bool idle;                /* on q's idle stack; guarded by q->mu */
    struct worker *next_idle; /* below it on the stack */
};

struct workq {
    pthread_mutex_t mu;
    struct workq_job *head, *tail;
    size_t queued, running;
    struct worker *idle; /* top of the idle stack */
    bool stopping;
    unsigned nthreads;
    struct worker *workers;
};

/* Takes w off the idle stack; q->mu held. */
static void unidle(struct workq *q, struct worker *w)
{
    struct worker **p = &q->idle;
    while (*p != w)
        p = &(*p)->next_idle;
    *p = w->next_idle;
    w->idle = false;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct workq *q = w->q;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping) {
            if (!w->idle) {
                w->idle = true;
                w->next_idle = q->idle;
                q->idle = w;
            }
            pthread_cond_wait(&w->cv, &q->mu);
        }
        if (w->idle) /* woke by itself, or at the stop: not by a push */
            unidle(q, w);
        struct workq_job *j = q->head;
        if (!j)
            break; /* stopping, and nothing left */
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->queued--;
        q->running++;
        pthread_mutex_unlock(&q->mu);
        j->next = NULL;
        j->fn(j);
        pthread_mutex_lock(&q->mu);
        q->running--;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct workq *workq_create(unsigned nthreads, const char *name)
{
    struct workq *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    q->nthreads = nthreads ? nthreads : 1;
    q->workers = xcalloc(q->nthreads, sizeof *q->workers);
    for (unsigned i = 0; i < q->nthreads; i++) {
        struct worker *w = &q->workers[i];
        w->q = q;
        pthread_cond_init(&w->cv, NULL);
        if (pthread_create(&w->th, NULL, worker_main, w)) {
            fprintf(stderr, "workq: cannot start thread %u of %u\n", i + 1, q->nthreads);
            abort();
        }
        if (name) {
            char n[16];
            snprintf(n, sizeof n, "%s", name);
            pthread_setname_np(w->th, n);
        }
    }
    return q;
}

void workq_push(struct workq *q, struct workq_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->queued++;
    struct worker *w = q->idle;
    if (w) {
        q->idle = w->next_idle;
        w->idle = false;
    }
    pthread_mutex_unlock(&q->mu);
    /* Signalled after the unlock, so that the woken thread does not at once
     * block on the mutex this thread still holds. w cannot go away meanwhile:
     * threads end only in workq_destroy. */
    if (w)
        pthread_cond_signal(&w->cv);
}

size_t workq_busy(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->queued + q->running;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void workq_destroy(struct workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_cond_signal(&q->workers[i].cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->workers[i].th, NULL);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_cond_destroy(&q->workers[i].cv);
    free(q->workers);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
