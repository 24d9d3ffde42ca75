/* muster kubeconfig: prints a kubeconfig for kubectl pointing at a muster server. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_write_kubeconfig(FILE *f, const char *server)
{
    fprintf(f, "apiVersion: v1\n"
           "kind: Config\n"
           "clusters:\n"
           "- name: muster\n"
           "  cluster:\n"
           "    server: \"%s\"\n"
           "contexts:\n"
           "- name: muster\n"
           "  context:\n"
           "    cluster: muster\n"
           "    user: muster\n"
           "    namespace: default\n"
           "current-context: muster\n"
           "users:\n"
           "- name: muster\n"
           "  user: {}\n"
           "preferences: {}\n",
           server);
}

int cli_kubeconfig(int argc, char **argv)
{
    const char *server = "http://127.0.0.1:6443";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--server") && i + 1 < argc) {
            server = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: muster kubeconfig [--server URL]\n\n"
                   "Prints a kubeconfig (cluster, context and a user with no credentials) for\n"
                   "the server at URL (default http://127.0.0.1:6443). Save it and point\n"
                   "KUBECONFIG at it.\n");
            return 0;
        } else {
            fprintf(stderr, "muster kubeconfig: unknown or incomplete argument '%s'\n", argv[i]);
            return 2;
        }
    }
    /* The URL goes into a YAML double-quoted scalar: refuse what would need escaping. */
    if (strpbrk(server, "\"\\\n\r") || strncmp(server, "http", 4)) {
        fprintf(stderr, "muster kubeconfig: --server must be an http(s) URL, got '%s'\n", server);
        return 2;
    }
    cli_write_kubeconfig(stdout, server);
    return 0;
}
