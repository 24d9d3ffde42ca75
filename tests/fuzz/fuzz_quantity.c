/*
 * fuzz_quantity: Kubernetes quantity parsing on arbitrary bytes.
 *
 * Properties checked beyond the sanitizers: a parsed value formats to text that
 * parses back to the same value; a failure leaves the output untouched and
 * says "invalid quantity"; canonical values never exceed the milli value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *fuzz_target_name = "quantity";
int fuzz_accepted;

const char *const fuzz_dict[] = {
    "m",  "k",  "M",  "G",  "T", "P", "E",  "Ki",   "Mi",
    "Gi", "Ti", "Pi", "Ei", "n", "u", "e",  "E",    "e-",
    "e+", ".",  "-",  "+",  "0", "9", "00", "1e18", "9223372036854775807",
    NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t m = 12345;
    struct err e;
    if (quantity_parse((const char *)data, size, &m, &e) != 0) {
        if (m != 12345 || strncmp(e.msg, "invalid quantity", 16) != 0) {
            fprintf(stderr, "bad failure: %s\n", e.msg);
            abort();
        }
        return 0;
    }
    fuzz_accepted = 1;
    char buf[QUANTITY_BUFSZ];
    quantity_format(m, buf, sizeof buf);
    int64_t back;
    if (quantity_parse_str(buf, &back, &e) != 0 || back != m) {
        fprintf(stderr, "round trip of %lld failed (%s)\n", (long long)m, buf);
        abort();
    }
    int64_t c = quantity_canonical("memory", m);
    if ((m >= 0 && (c < 0 || c > m / 1000 + 1)) || quantity_canonical("cpu", m) != m)
        abort();
    /* The same bytes as a JSON-style real where they look like one. */
    if (size < 40) {
        char s[48];
        memcpy(s, data, size);
        s[size] = 0;
        char *end;
        double d = strtod(s, &end);
        if (end != s && !*end)
            (void)quantity_from_real(d, &m, &e);
    }
    return 0;
}
