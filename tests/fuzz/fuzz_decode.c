/*
 * fuzz_decode: the object model's decoders on arbitrary bytes.
 *
 * Each input is decoded as a YAML stream and as a JSON document (stream
 * form, so a List is exercised too). Beyond "no crash, no leak, no undefined
 * behaviour" under the sanitizers, it checks one property: YAML and JSON share
 * one decoder, so every document of a YAML stream that decodes must decode
 * identically after a round trip through JSON text. A mismatch aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *fuzz_target_name = "decode";
int fuzz_accepted;

const char *const fuzz_dict[] = {"---\n",
                                 ": ",
                                 "- ",
                                 "{",
                                 "}",
                                 "[",
                                 "]",
                                 ", ",
                                 "\n  ",
                                 "\"",
                                 "'",
                                 "&a ",
                                 "*a",
                                 "!!str ",
                                 "!!int ",
                                 "<<: ",
                                 "~",
                                 "null",
                                 "true",
                                 "1e3",
                                 "0x1f",
                                 ".inf",
                                 "apiVersion: ",
                                 "kueue.x-k8s.io/v1beta1",
                                 "kueue.x-k8s.io/v1beta2",
                                 "kind: ",
                                 "ClusterQueue",
                                 "Workload",
                                 "LocalQueue",
                                 "ResourceFlavor",
                                 "Cohort",
                                 "Topology",
                                 "Node",
                                 "Scenario",
                                 "metadata: ",
                                 "name: ",
                                 "namespace: ",
                                 "spec: ",
                                 "status: ",
                                 "resourceGroups:",
                                 "coveredResources: ",
                                 "flavors:",
                                 "resources:",
                                 "nominalQuota: ",
                                 "borrowingLimit: ",
                                 "lendingLimit: ",
                                 "podSets:",
                                 "count: ",
                                 "minCount: ",
                                 "template:",
                                 "containers:",
                                 "requests:",
                                 "limits:",
                                 "cpu: ",
                                 "memory: ",
                                 "nvidia.com/gpu: ",
                                 "500m",
                                 "40Gi",
                                 "2Ei",
                                 "labels: ",
                                 "annotations: ",
                                 "matchExpressions:",
                                 "operator: ",
                                 "values: ",
                                 "cohortName: ",
                                 "parentName: ",
                                 "kueue.x-k8s.io/podset-required-topology: ",
                                 "topologyRequest:",
                                 "admission:",
                                 "podSetAssignments:",
                                 "conditions:",
                                 "2024-05-01T10:00:00Z",
                                 "expect:",
                                 "at: ",
                                 "0s",
                                 "admitted: ",
                                 "default/w",
                                 "\\u0000",
                                 "\xc3\xa9",
                                 NULL};

/* Decodes one JSON value via its text and returns the object, or NULL. */
static struct model_obj *via_json(json_t *doc, struct err *e)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    struct model_obj **objs = NULL;
    size_t n = 0;
    struct model_obj *o = NULL;
    if (model_decode_json_stream(text, strlen(text), &objs, &n, e) == 0) {
        if (n == 1) {
            o = objs[0];
            objs[0] = NULL;
        }
        model_objs_free(objs, n);
    }
    free(text);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct model_obj **objs = NULL;
    size_t n = 0;
    struct err e;
    if (model_decode_yaml_stream((const char *)data, size, "fuzz.yaml", &objs, &n, &e) == 0) {
        fuzz_accepted = 1;
        for (size_t i = 0; i < n; i++) {
            char key[600];
            model_obj_key(objs[i], key, sizeof key);
            (void)model_kind_name(objs[i]->kind);
            /* Items of a List are checked through the List itself below. */
            struct err e2;
            struct model_obj *o = via_json(objs[i]->raw, &e2);
            if (!o) {
                fprintf(stderr, "YAML decoded but its JSON did not: %s\n", e2.msg);
                abort();
            }
            if (o->kind != objs[i]->kind || strcmp(o->meta.name, objs[i]->meta.name) != 0 ||
                !json_equal(o->raw, objs[i]->raw)) {
                fprintf(stderr, "YAML and JSON decodes differ for %s\n", key);
                abort();
            }
            model_obj_free(o);
        }
        model_objs_free(objs, n);
    }
    if (model_decode_json_stream((const char *)data, size, &objs, &n, &e) == 0) {
        fuzz_accepted = 1;
        model_objs_free(objs, n);
    }
    return 0;
}
