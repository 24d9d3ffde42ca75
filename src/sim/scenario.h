/*
 * scenario: runs a scenario file (manifests plus one Scenario document, see
 * docs/scenarios.md) through the admission engine on a virtual clock and checks
 * its expectations.
 *
 * The manifests are decoded by src/model exactly as the API server decodes
 * them, turned into an adm world (src/sched/admit.h), and replayed: arrivals
 * (`muster.dev/arrival`), completions (`muster.dev/runtime` after admission)
 * and deadlines (maximumExecutionTimeSeconds) in time order, the scheduler
 * settling after each instant. Virtual time 0 is the latest timestamp written
 * in the file (creation and condition times describe the past).
 */
#ifndef MUSTER_SIM_SCENARIO_H
#define MUSTER_SIM_SCENARIO_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"

/* Runs one file. Writes "PASS name" or "FAIL name" plus the differences and
 * the pending reasons to out (verbose: reasons even on success). Returns 1 on
 * pass, 0 on fail, -1 when the file cannot be read or decoded (e says why). */
int scenario_run_file(const char *path, FILE *out, bool verbose, struct err *e);

#endif
