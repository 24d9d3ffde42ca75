/*
 * driver: a small, deterministic mutation fuzzer for LLVMFuzzerTestOneInput
 * targets, so the fuzz targets run in every `make test` without libFuzzer.
 *
 *   fuzz_<target> [--runs N] [--seconds S] [--seed X] [--max-len L] CORPUS_DIR|FILE...
 *
 * It runs every seed file once, then N mutated inputs (default 100000), each
 * made from a seed (or a previous interesting input kept in a small pool) by a
 * few of: bit flips, random or "interesting" bytes, byte inserts and deletes,
 * duplicated or swapped ranges, splices with another seed, and dictionary
 * tokens of the formats under test (YAML and JSON punctuation, Kubernetes
 * field names, quantity suffixes). The random sequence comes from --seed, so a
 * failure reproduces with the same command; --seconds stops early (the runs
 * done so far are reported) so a slow sanitizer build stays within its ctest
 * budget. A crash is the sanitizer's report; the input that caused it is
 * written to fuzz-crash-<target>.bin in the working directory first.
 *
 * The pool is how a blind mutator gets deeper than one edit: an input the
 * target accepted (it sets fuzz_accepted) is kept and mutated again later.
 * Targets return 0 as libFuzzer requires, so the same files build with
 * -fsanitize=fuzzer too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's name, for messages and the crash file; set by the target. */
extern const char *fuzz_target_name;

/* Tokens spliced into inputs: the vocabulary of the formats under test. */
extern const char *const fuzz_dict[];

/* Set by the target to 1 when it accepted the input it was given. */
extern int fuzz_accepted;

#ifdef __SANITIZE_ADDRESS__
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

#define POOL_MAX 256

struct buf {
    uint8_t *p;
    size_t len;
};

static struct buf *seeds;
static size_t n_seeds;
static struct buf pool[POOL_MAX];
static size_t n_pool;
static uint64_t rng_state;
static const char *crash_path;
static uint8_t *current;
static size_t current_len;

static uint64_t rnd(void)
{
    /* xorshift64*: fast, and the same sequence on every platform. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz driver: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void add_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    struct buf b = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (b.len == cap) {
            cap = cap ? cap * 2 : 4096;
            b.p = realloc(b.p, cap);
            if (!b.p)
                die("realloc");
        }
        size_t r = fread(b.p + b.len, 1, cap - b.len, f);
        if (r == 0)
            break;
        b.len += r;
    }
    fclose(f);
    seeds = realloc(seeds, (n_seeds + 1) * sizeof *seeds);
    if (!seeds)
        die("realloc");
    seeds[n_seeds++] = b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every regular file of dir, in name order so runs are reproducible. */
static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die(dir);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(len);
        if (!names || !names[n])
            die("malloc");
        snprintf(names[n], len, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            add_seed(names[i]);
        free(names[i]);
    }
    free(names);
}

/* Writes the input being run to crash_path. Called on the way down (the
 * sanitizer's death callback, or a fatal signal), so it uses only
 * async-signal-safe calls. */
static void save_current(void)
{
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < current_len) {
        ssize_t w = write(fd, current + off, current_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
}

static void on_signal(int sig)
{
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_one(uint8_t *p, size_t len)
{
    current = p;
    current_len = len;
    /* A copy of exactly len bytes, so a read past the end is caught. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        die("malloc");
    memcpy(copy, p, len);
    fuzz_accepted = 0;
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return fuzz_accepted;
}

static const uint8_t interesting[] = {0,   1,    0x7f, 0x80, 0xff, '\n', '\t', ' ', ':', '-',
                                      '"', '\'', '\\', '{',  '}',  '[',  ']',  ',', '#', '&',
                                      '*', '!',  '|',  '>',  '0',  '9',  '.',  'e', 'm', 'i'};

/* One random edit of b (len <= max), in place; returns the new length. */
static size_t mutate_once(uint8_t *b, size_t len, size_t max)
{
    switch (below(9)) {
    case 0: /* flip a bit */
        if (len)
            b[below(len)] ^= (uint8_t)(1u << below(8));
        return len;
    case 1: /* set an interesting byte */
        if (len)
            b[below(len)] = interesting[below(sizeof interesting)];
        return len;
    case 2: /* insert a random byte */
        if (len < max) {
            size_t at = below(len + 1);
            memmove(b + at + 1, b + at, len - at);
            b[at] = (uint8_t)rnd();
            return len + 1;
        }
        return len;
    case 3: { /* delete a range */
        if (!len)
            return len;
        size_t at = below(len), n = 1 + below(len - at < 16 ? len - at : 16);
        memmove(b + at, b + at + n, len - at - n);
        return len - n;
    }
    case 4: { /* duplicate a range */
        if (!len)
            return len;
        size_t at = below(len), n = 1 + below(len - at < 64 ? len - at : 64);
        if (len + n > max)
            return len;
        size_t to = below(len + 1);
        uint8_t tmp[64];
        memcpy(tmp, b + at, n);
        memmove(b + to + n, b + to, len - to);
        memcpy(b + to, tmp, n);
        return len + n;
    }
    case 5: { /* splice: the tail of another seed from a random point */
        const struct buf *o = &seeds[below(n_seeds)];
        if (!o->len)
            return len;
        size_t at = below(len + 1), from = below(o->len);
        size_t n = o->len - from;
        if (at + n > max)
            n = max - at;
        memcpy(b + at, o->p + from, n);
        return at + n;
    }
    case 6:
    case 7: { /* insert a dictionary token */
        size_t nd = 0;
        while (fuzz_dict[nd])
            nd++;
        const char *t = fuzz_dict[below(nd)];
        size_t tl = strlen(t), at = below(len + 1);
        if (len + tl > max)
            return len;
        memmove(b + at + tl, b + at, len - at);
        memcpy(b + at, t, tl);
        return len + tl;
    }
    default: { /* replace a digit run's neighbour with a digit: walks numbers */
        if (len)
            b[below(len)] = (uint8_t)('0' + below(10));
        return len;
    }
    }
}

int main(int argc, char **argv)
{
    long runs = 100000, max_len = 64 * 1024;
    double seconds = 0;
    rng_state = 0x9E3779B97F4A7C15ULL;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--runs") == 0)
            runs = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            rng_state ^= strtoull(argv[i + 1], NULL, 0) * 0xD1B54A32D192ED03ULL;
        else if (strcmp(argv[i], "--max-len") == 0)
            max_len = atol(argv[i + 1]);
        else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    if (!rng_state)
        rng_state = 1;
    for (; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            die(argv[i]);
        if (S_ISDIR(st.st_mode))
            add_dir(argv[i]);
        else
            add_seed(argv[i]);
    }
    if (n_seeds == 0) {
        struct buf empty = {malloc(1), 0};
        seeds = malloc(sizeof *seeds);
        seeds[n_seeds++] = empty;
    }
    static char path[256];
    snprintf(path, sizeof path, "fuzz-crash-%s.bin", fuzz_target_name);
    crash_path = path;
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_set_death_callback(save_current);
#endif
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t s = 0; s < n_seeds; s++)
        run_one(seeds[s].p, seeds[s].len);

    uint8_t *b = malloc((size_t)max_len + 1);
    if (!b)
        die("malloc");
    long done = 0, kept = 0;
    for (; done < runs; done++) {
        if (seconds > 0 && (done & 255) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
                break;
        }
        const struct buf *src = n_pool && below(2) ? &pool[below(n_pool)] : &seeds[below(n_seeds)];
        size_t len = src->len > (size_t)max_len ? (size_t)max_len : src->len;
        memcpy(b, src->p, len);
        int edits = 1 + (int)below(4);
        for (int k = 0; k < edits; k++)
            len = mutate_once(b, len, (size_t)max_len);
        if (run_one(b, len) > 0) {
            /* Accepted input: keep it (replacing an old one when full). */
            struct buf *slot = n_pool < POOL_MAX ? &pool[n_pool++] : &pool[below(POOL_MAX)];
            free(slot->p);
            slot->p = malloc(len ? len : 1);
            if (!slot->p)
                die("malloc");
            memcpy(slot->p, b, len);
            slot->len = len;
            kept++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("fuzz %s: %zu seeds, %ld mutated inputs (%ld accepted and kept) in %.1f s, no crash\n",
           fuzz_target_name, n_seeds, done, kept, secs);
    remove(crash_path);
    free(b);
    for (size_t s = 0; s < n_seeds; s++)
        free(seeds[s].p);
    free(seeds);
    for (size_t p = 0; p < n_pool; p++)
        free(pool[p].p);
    return 0;
}
