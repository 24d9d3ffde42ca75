/*
 * workq.c: one mutex, one condition variable, a singly linked FIFO of jobs.
 *
 * A thread that finds the queue empty sleeps on the condition variable; a push
 * wakes one sleeper only when there is one (idle > 0), so under load, when every
 * thread is busy, a push is a lock and two pointer stores, and a thread that
 * finishes a job takes the next without sleeping. (A wake may find the job
 * already taken by a thread that just finished another; it then sleeps again.)
 */
#include "base/workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct workq_job *head, *tail;
    size_t queued, running;
    unsigned idle; /* threads asleep on cv */
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct workq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping) {
            q->idle++;
            pthread_cond_wait(&q->cv, &q->mu);
            q->idle--;
        }
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
    pthread_cond_init(&q->cv, NULL);
    q->nthreads = nthreads ? nthreads : 1;
    q->threads = xcalloc(q->nthreads, sizeof *q->threads);
    for (unsigned i = 0; i < q->nthreads; i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q)) {
            fprintf(stderr, "workq: cannot start thread %u of %u\n", i + 1, q->nthreads);
            abort();
        }
        if (name) {
            char n[16];
            snprintf(n, sizeof n, "%s", name);
            pthread_setname_np(q->threads[i], n);
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
    bool wake = q->idle > 0;
    pthread_mutex_unlock(&q->mu);
    /* Signalled after the unlock, so that the woken thread does not at once
     * block on the mutex this thread still holds. */
    if (wake)
        pthread_cond_signal(&q->cv);
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
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    free(q->threads);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
