/*
 * fuzz_protobuf: protobuf_decode() (src/api/protobuf.h) on arbitrary bytes.
 *
 * The first byte of an input picks the kind the "request path" takes (modulo
 * the number of kinds with tables); the rest is the body, normally the magic
 * "k8s\0" and a runtime.Unknown envelope (the seeds are bodies kubectl sent).
 *
 * Beyond "no crash, no leak, no undefined behaviour", the three unknown-field
 * policies must agree: Ignore accepts whatever Warn accepts and builds the
 * same object; Reject accepts exactly the bodies Warn accepts without a
 * warning, and then builds the same object too. A failure has one of the three
 * documented codes and a message; a success is an object that prints as JSON.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/protobuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *fuzz_target_name = "protobuf";
int fuzz_accepted;

/* Tokens without NUL (the driver splices C strings): keys of common fields,
 * lengths, varint shapes and names. */
const char *const fuzz_dict[] = {"k8s",
                                 "\x0a",
                                 "\x12",
                                 "\x1a",
                                 "\x22",
                                 "\x2a",
                                 "\x08",
                                 "\x10",
                                 "\x18",
                                 "\x42",
                                 "\x5a",
                                 "\x62",
                                 "\x6a",
                                 "\x8a\x01",
                                 "\xb2\x01",
                                 "\x80\x01",
                                 "\xff\xff\xff\xff\x0f",
                                 "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                                 "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
                                 "\x0b",
                                 "\x0c",
                                 "\x0e",
                                 "\x0f",
                                 "\x09\x01\x02\x03\x04\x05\x06\x07\x08",
                                 "\x0d\x01\x02\x03\x04",
                                 "v1",
                                 "batch/v1",
                                 "scheduling.k8s.io/v1",
                                 "Namespace",
                                 "Pod",
                                 "Job",
                                 "PriorityClass",
                                 "DeleteOptions",
                                 "Binding",
                                 "busybox",
                                 "nvidia.com/gpu",
                                 "500m",
                                 "{\"f:a\":{}}",
                                 "\xc3\xa9",
                                 "\xed\xa0\x80",
                                 "\xc0\xaf",
                                 NULL};

static void check(const char *kind, const uint8_t *body, size_t len)
{
    struct err er, ew, ed;
    char warn[200];
    json_t *r = protobuf_decode(body, len, kind, PROTOBUF_UNKNOWN_REJECT, NULL, 0, &er);
    json_t *w = protobuf_decode(body, len, kind, PROTOBUF_UNKNOWN_WARN, warn, sizeof warn, &ew);
    json_t *d = protobuf_decode(body, len, kind, PROTOBUF_UNKNOWN_DROP, NULL, 0, &ed);
    const struct err *errs[] = {r ? NULL : &er, w ? NULL : &ew, d ? NULL : &ed};
    for (size_t i = 0; i < 3; i++)
        if (errs[i] && ((errs[i]->code != EINVAL && errs[i]->code != EPROTO &&
                         errs[i]->code != EDOM) ||
                        !errs[i]->msg[0])) {
            fprintf(stderr, "%s: error code %d \"%s\"\n", kind, errs[i]->code, errs[i]->msg);
            abort();
        }
    if (!w != !d || (w && !json_equal(w, d))) {
        fprintf(stderr, "%s: Warn and Ignore disagree (%s / %s)\n", kind, w ? "ok" : ew.msg,
                d ? "ok" : ed.msg);
        abort();
    }
    if (!r != !(w && !warn[0]) || (r && !json_equal(r, w))) {
        fprintf(stderr, "%s: Reject and Warn disagree (%s / %s, warning \"%s\")\n", kind,
                r ? "ok" : er.msg, w ? "ok" : ew.msg, w ? warn : "");
        abort();
    }
    if (w && warn[0] && !strstr(warn, "unknown field number")) {
        fprintf(stderr, "%s: odd warning \"%s\"\n", kind, warn);
        abort();
    }
    if (d) {
        if (!json_is_object(d)) {
            fprintf(stderr, "%s: not an object\n", kind);
            abort();
        }
        char *s = json_dumps(d, JSON_COMPACT);
        if (!s) {
            fprintf(stderr, "%s: the object does not print as JSON\n", kind);
            abort();
        }
        free(s);
        fuzz_accepted = 1;
    }
    json_decref(r);
    json_decref(w);
    json_decref(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    size_t n = protobuf_schema_len();
    check(protobuf_schema_kind(data[0] % n), data + 1, size - 1);
    return 0;
}
