/* muster scenario run FILE...: runs scenario files and checks their expectations. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/scenario.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: muster scenario run [--verbose] FILE...\n\n"
               "Runs each scenario file (manifests plus one Scenario document; see\n"
               "docs/scenarios.md) on a virtual clock and checks its expectations.\n"
               "Prints PASS or FAIL per scenario, the differences and pending reasons on\n"
               "failure, and a final line 'N passed, N failed'. Exit status 1 when any\n"
               "scenario fails or cannot be read.\n");
}

int cli_scenario(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        usage(argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                   : stderr);
        return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
    }
    bool verbose = false;
    int passed = 0, failed = 0, files = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            verbose = true;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        files++;
        struct err e = {0};
        int rc = scenario_run_file(argv[i], stdout, verbose, &e);
        if (rc == 1) {
            passed++;
        } else if (rc == 0) {
            failed++;
        } else {
            failed++;
            printf("FAIL %s\n    error: %s\n", argv[i], e.msg);
        }
        fflush(stdout);
    }
    if (!files) {
        usage(stderr);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
