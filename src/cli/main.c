/* muster: the scheduling layer for AI factories. One binary, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifdef MUSTER_JEMALLOC
/* jemalloc reads its options from this symbol: freed pages go back to the
 * system within a second (the default keeps them ten), so a burst such as a
 * list of every Node does not hold its memory afterwards. */
const char *malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
#endif

#ifndef MUSTER_VERSION
#define MUSTER_VERSION "dev"
#endif

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"sim", cli_sim, "trace replay on a virtual clock (openb)"},
    {"bench", cli_bench, "micro and macro benchmarks (place)"},
    {"scenario", cli_scenario, "run scenario files (manifests + expectations) and check them"},
    {"server", cli_server, "the Kubernetes-compatible API server on a store"},
    {"agent", cli_agent, "node agent: registers a Node and its GPUs, runs bound pods"},
    {"kubeconfig", cli_kubeconfig, "print a kubeconfig for kubectl"},
    {"up", cli_up, "a whole local cluster: server, scheduler, agents, example queues"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: muster <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "  %-10s %s\n", "version", "print the version");
    fprintf(f, "\n'muster <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
#ifdef MUSTER_JEMALLOC
        printf("muster %s (jemalloc)\n", MUSTER_VERSION);
#else
        printf("muster %s\n", MUSTER_VERSION);
#endif
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "muster: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
