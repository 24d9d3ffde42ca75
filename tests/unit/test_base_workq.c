/* Tests for base/workq: every job runs exactly once, in arrival order on one
 * thread, on several threads at once, from jobs that queue more jobs; the
 * thread that went idle last takes the next job; destroy runs what is still
 * queued. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/workq.h"

struct tjob {
    struct workq_job job;
    int id;
    _Atomic int *runs;     /* runs[id]++ */
    _Atomic int *order;    /* order[seq++] = id */
    _Atomic int *seq;
    struct workq *q;       /* for jobs that queue a follower */
    struct tjob *follower; /* queued by this job when not NULL */
    pthread_barrier_t *meet;
};

static void run(struct workq_job *j)
{
    struct tjob *t = (struct tjob *)j;
    atomic_fetch_add(&t->runs[t->id], 1);
    if (t->order)
        t->order[atomic_fetch_add(t->seq, 1)] = t->id;
    if (t->meet)
        pthread_barrier_wait(t->meet);
    if (t->follower)
        workq_push(t->q, &t->follower->job);
}

static void test_one_thread_runs_in_order(void **state)
{
    enum { N = 2000 };
    static _Atomic int runs[N], order[N];
    _Atomic int seq = 0;
    static struct tjob jobs[N];
    struct workq *q = workq_create(1, "t-workq");
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct tjob){.job.fn = run, .id = i, .runs = runs, .order = order, .seq = &seq};
        workq_push(q, &jobs[i].job);
    }
    workq_destroy(q); /* runs what is left */
    assert_int_equal(atomic_load(&seq), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&runs[i]), 1);
        assert_int_equal(atomic_load(&order[i]), i);
    }
}

static void test_threads_run_at_once(void **state)
{
    /* Four jobs that each wait for the other three finish only if four threads
     * run them at the same time. */
    enum { T = 4 };
    static _Atomic int runs[T];
    pthread_barrier_t meet;
    pthread_barrier_init(&meet, NULL, T);
    struct tjob jobs[T];
    struct workq *q = workq_create(T, "t-workq");
    for (int i = 0; i < T; i++) {
        jobs[i] = (struct tjob){.job.fn = run, .id = i, .runs = runs, .meet = &meet};
        workq_push(q, &jobs[i].job);
    }
    for (int tries = 0; workq_busy(q) && tries < 5000; tries++)
        usleep(1000);
    assert_int_equal(workq_busy(q), 0);
    workq_destroy(q);
    pthread_barrier_destroy(&meet);
    for (int i = 0; i < T; i++)
        assert_int_equal(atomic_load(&runs[i]), 1);
}

static void test_jobs_queue_jobs(void **state)
{
    /* A chain of 100 jobs, each queued by the one before it, from 3 threads;
     * destroy right after the first push still runs the whole chain. */
    enum { N = 100 };
    static _Atomic int runs[N];
    static struct tjob jobs[N];
    struct workq *q = workq_create(3, "t-workq");
    for (int i = 0; i < N; i++)
        jobs[i] = (struct tjob){.job.fn = run,
                                .id = i,
                                .runs = runs,
                                .q = q,
                                .follower = i + 1 < N ? &jobs[i + 1] : NULL};
    workq_push(q, &jobs[0].job);
    for (int tries = 0; atomic_load(&runs[N - 1]) == 0 && tries < 5000; tries++)
        usleep(1000);
    workq_destroy(q);
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&runs[i]), 1);
}

struct self_job {
    struct workq_job job;
    pthread_t who;
};

static void record_self(struct workq_job *j)
{
    ((struct self_job *)j)->who = pthread_self();
}

static void test_last_idle_thread_takes_the_next_job(void **state)
{
    /* One job at a time, each pushed once the pool is idle again: the thread
     * that ran the last one (on top of the idle stack) runs them all, rather
     * than each of the 8 threads in turn. */
    enum { N = 20, T = 8 };
    struct self_job jobs[N];
    struct workq *q = workq_create(T, "t-workq");
    /* First every thread runs one job (they meet at a barrier), so that all
     * are past their start and back on the idle stack. */
    static _Atomic int runs[T];
    pthread_barrier_t meet;
    pthread_barrier_init(&meet, NULL, T);
    struct tjob warm[T];
    for (int i = 0; i < T; i++) {
        warm[i] = (struct tjob){.job.fn = run, .id = i, .runs = runs, .meet = &meet};
        workq_push(q, &warm[i].job);
    }
    for (int tries = 0; workq_busy(q) && tries < 5000; tries++)
        usleep(1000);
    assert_int_equal(workq_busy(q), 0);
    pthread_barrier_destroy(&meet);
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct self_job){.job.fn = record_self};
        workq_push(q, &jobs[i].job);
        /* busy drops to 0 in the same hold of the lock in which the thread
         * goes back on the idle stack. */
        for (int tries = 0; workq_busy(q) && tries < 5000; tries++)
            usleep(100);
        assert_int_equal(workq_busy(q), 0);
    }
    workq_destroy(q);
    for (int i = 1; i < N; i++)
        assert_true(pthread_equal(jobs[i].who, jobs[0].who));
}

static void test_destroy_null_and_idle(void **state)
{
    workq_destroy(NULL);
    struct workq *q = workq_create(0, NULL); /* 0 threads means 1 */
    assert_int_equal(workq_busy(q), 0);
    workq_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread_runs_in_order),
        cmocka_unit_test(test_threads_run_at_once),
        cmocka_unit_test(test_jobs_queue_jobs),
        cmocka_unit_test(test_last_idle_thread_takes_the_next_job),
        cmocka_unit_test(test_destroy_null_and_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
