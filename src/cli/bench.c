/* muster bench: benchmarks. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "muster bench: not yet\n");
    return 2;
}
