/*
 * cli: one file per subcommand. Each entry point takes the arguments after its
 * own name (argv[0] is the subcommand's name) and returns the process exit status.
 */
#ifndef MUSTER_CLI_H
#define MUSTER_CLI_H

#include <stdio.h>

int cli_sim(int argc, char **argv);
int cli_bench(int argc, char **argv);
/* muster bench api (cli/bench_api.c); argv[0] is "api". */
int cli_bench_api(int argc, char **argv);
/* muster bench e2e (cli/bench_e2e.c); argv[0] is "e2e". */
int cli_bench_e2e(int argc, char **argv);
int cli_scenario(int argc, char **argv);
int cli_server(int argc, char **argv);
int cli_kubeconfig(int argc, char **argv);
int cli_up(int argc, char **argv);
int cli_agent(int argc, char **argv);

/* Splits --listen HOST:PORT into host (size bytes) and port, printing why to
 * stderr (prefixed by cmd) and returning -1 when it is malformed. */
int cli_parse_listen(const char *cmd, const char *listen, char *host, size_t size, int *port);

/* mkdir -p: creates dir and its missing parents (0755). Returns 0 or -1 (errno). */
int cli_mkdir_p(const char *dir);

/* Writes a kubeconfig for the server at URL (an http URL without quotes). */
void cli_write_kubeconfig(FILE *f, const char *server);

/* Parses "42-51" or "42" or "1,5,9" into a list of seeds; returns the count or -1. */
int cli_parse_seeds(const char *s, unsigned long long *out, int max);

#endif
