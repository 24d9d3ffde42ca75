/* Tests for api/protobuf: request bodies kubectl 1.32 sent in Kubernetes'
 * protobuf encoding (captured byte for byte from the real client against a
 * muster server) decode to the JSON kubectl prints for the same object with
 * `--dry-run=client -o json`; the same bodies through api_handle(); the
 * fieldValidation policies for unknown field numbers; and hand-made malformed
 * bodies, each a 400 (415, 422) naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/protobuf.h"

/* ---- byte strings -------------------------------------------------------- */

/* Every byte string a test builds; bs_free_all() releases them. */
static uint8_t *allocs[4096];
static size_t n_allocs;

struct bs {
    uint8_t *p;
    size_t n;
};

static struct bs bs_new(size_t n)
{
    struct bs b = {calloc(1, n ? n : 1), n};
    assert_true(n_allocs < sizeof allocs / sizeof allocs[0]);
    allocs[n_allocs++] = b.p;
    return b;
}

static void bs_free_all(void)
{
    while (n_allocs)
        free(allocs[--n_allocs]);
}

/* Frees what was allocated after keep (which stays). */
static void bs_free_all_but(const uint8_t *keep)
{
    while (n_allocs && allocs[n_allocs - 1] != keep)
        free(allocs[--n_allocs]);
}

static struct bs hex(const char *h)
{
    size_t n = strlen(h) / 2;
    struct bs b = bs_new(n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        b.p[i] = (uint8_t)v;
    }
    return b;
}

static struct bs cat(struct bs a, struct bs b)
{
    struct bs c = bs_new(a.n + b.n);
    memcpy(c.p, a.p, a.n);
    memcpy(c.p + a.n, b.p, b.n);
    return c;
}

static struct bs varint(uint64_t v)
{
    struct bs b = bs_new(10);
    b.n = 0;
    do {
        b.p[b.n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return b;
}

/* Field num as a varint, as bytes, as a string. */
static struct bs fv(uint32_t num, uint64_t v)
{
    return cat(varint((uint64_t)num << 3), varint(v));
}

static struct bs fb(uint32_t num, struct bs v)
{
    return cat(cat(varint((uint64_t)num << 3 | 2), varint(v.n)), v);
}

static struct bs fs(uint32_t num, const char *s)
{
    struct bs v = bs_new(strlen(s));
    memcpy(v.p, s, v.n);
    return fb(num, v);
}

static const struct bs empty = {(uint8_t *)"", 0};

/* The "k8s\0" magic and a runtime.Unknown around raw. */
static struct bs envelope(const char *api_version, const char *kind, struct bs raw)
{
    struct bs tm = cat(fs(1, api_version), fs(2, kind));
    return cat(hex("6b387300"), cat(fb(1, tm), fb(2, raw)));
}

/* ---- the bodies kubectl sent ----------------------------------------------- */

struct vector {
    const char *name;
    const char *kind;
    const char *hex;
    const char *json; /* what the JSON path parses for the same object */
};

/* 1-5: `kubectl create namespace team-a`, `create job train
 * --image=nvcr.io/nvidia/pytorch:24.01-py3 -- python3 -c 'print(1)'`, `create
 * priorityclass high --value=1000 --description="high prio"`, `... low
 * --value=-5 --global-default --preemption-policy=Never --description=low`,
 * `... zero --value=0`; the JSON is the same command's `--dry-run=client -o
 * json`. 6: `kubectl debug node/n1 --image=busybox --profile=sysadmin`.
 * 7: `kubectl debug rich --copy-to=rich-copy --image=busybox --container=dbg
 * --profile=general` of a pod using most of PodSpec (created from JSON; the
 * expected object is that pod's spec as kubectl copies it: probes, labels and
 * annotations dropped, a debug container and shareProcessNamespace added).
 * 8: the DeleteOptions of `kubectl drain n1 --force --grace-period=7`. */
static const struct vector vectors[] = {
    {"create_namespace", "Namespace",
     "6b3873000a0f0a02763112094e616d657370616365121e0a160a067465616d2d6112001a0022002a0032"
     "003800420012001a020a001a002200",
     "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"team-a\",\"cr"
     "eationTimestamp\":null},\"spec\":{},\"status\":{}}"},
    {"create_job_command", "Job",
     "6b3873000a0f0a0862617463682f763112034a6f6212b2010a150a05747261696e12001a0022002a0032"
     "0038004200128e01328b010a100a0012001a0022002a00320038004200127712540a05747261696e1220"
     "6e7663722e696f2f6e76696469612f7079746f7263683a32342e30312d7079331a07707974686f6e331a"
     "022d631a087072696e742831292a0042006a007200800100880100900100a201001a054e657665723200"
     "42004a0052005800600068008201008a01009a0100c201001a082000280030003a001a002200",
     "{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"name\":\"train\",\"cre"
     "ationTimestamp\":null},\"spec\":{\"template\":{\"metadata\":{\"creationTimestamp\":n"
     "ull},\"spec\":{\"containers\":[{\"name\":\"train\",\"image\":\"nvcr.io/nvidia/pytorc"
     "h:24.01-py3\",\"command\":[\"python3\",\"-c\",\"print(1)\"],\"resources\":{}}],\"res"
     "tartPolicy\":\"Never\"}}},\"status\":{}}"},
    {"create_priorityclass", "PriorityClass",
     "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c6173"
     "73123c0a140a046869676812001a0022002a0032003800420010e8071800220968696768207072696f2a"
     "14507265656d70744c6f7765725072696f726974791a002200",
     "{\"kind\":\"PriorityClass\",\"apiVersion\":\"scheduling.k8s.io/v1\",\"metadata\":{\""
     "name\":\"high\",\"creationTimestamp\":null},\"value\":1000,\"description\":\"high pr"
     "io\",\"preemptionPolicy\":\"PreemptLowerPriority\"}"},
    {"create_priorityclass_negative_global", "PriorityClass",
     "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c6173"
     "73122e0a130a036c6f7712001a0022002a0032003800420010fbffffffffffffffff01180122036c6f77"
     "2a054e657665721a002200",
     "{\"kind\":\"PriorityClass\",\"apiVersion\":\"scheduling.k8s.io/v1\",\"metadata\":{\""
     "name\":\"low\",\"creationTimestamp\":null},\"value\":-5,\"globalDefault\":true,\"des"
     "cription\":\"low\",\"preemptionPolicy\":\"Never\"}"},
    {"create_priorityclass_zero", "PriorityClass",
     "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c6173"
     "7312320a140a047a65726f12001a0022002a003200380042001000180022002a14507265656d70744c6f"
     "7765725072696f726974791a002200",
     "{\"kind\":\"PriorityClass\",\"apiVersion\":\"scheduling.k8s.io/v1\",\"metadata\":{\""
     "name\":\"zero\",\"creationTimestamp\":null},\"value\":0,\"preemptionPolicy\":\"Preem"
     "ptLowerPriority\"}"},
    {"debug_node_sysadmin", "Pod",
     "6b3873000a090a0276311203506f6412d0010a260a166e6f64652d64656275676765722d6e312d726a6e"
     "787a12001a0022002a003200380042001293010a120a09686f73742d726f6f7412050a030a012f12490a"
     "086465627567676572120762757379626f782a0042004a180a09686f73742d726f6f7410001a052f686f"
     "7374220032006a0072007a021001800100880100900100a2010446696c651a054e65766572320042004a"
     "0052026e315801600168018201008a01009a0100b2010e0a0012064578697374731a002200c201001a10"
     "0a001a0022002a0032004a005a0072001a002200",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"node-debugger-n1-rj"
     "nxz\",\"creationTimestamp\":null},\"spec\":{\"volumes\":[{\"name\":\"host-root\",\"h"
     "ostPath\":{\"path\":\"/\"}}],\"containers\":[{\"name\":\"debugger\",\"image\":\"busy"
     "box\",\"resources\":{},\"volumeMounts\":[{\"name\":\"host-root\",\"mountPath\":\"/ho"
     "st\"}],\"terminationMessagePolicy\":\"File\",\"securityContext\":{\"privileged\":tru"
     "e}}],\"restartPolicy\":\"Never\",\"nodeName\":\"n1\",\"hostNetwork\":true,\"hostPID"
     "\":true,\"hostIPC\":true,\"tolerations\":[{\"operator\":\"Exists\"}]},\"status\":{}}"},
    {"debug_copy_to_full_podspec", "Pod",
     "6b3873000a090a0276311203506f6412850d0a200a09726963682d636f707912001a0764656661756c74"
     "22002a0032003800420012ce0c0a120a0464617461120a52080a047076633110010a1c0a077363726174"
     "63681211120f0a064d656d6f727912050a033147690a220a03636667121b9a01180a040a02636d120d0a"
     "01611205612e74787418800218a4030a0e0a03736563120732050a017320010a410a0470726f6a1239d2"
     "01360a11220f0a0361706910901c1a05746f6b656e0a21121f0a1d0a066c6162656c7312130a00120f6d"
     "657461646174612e6c6162656c730a540a03657068124dea014a0a480a180a0012001a0022002a003200"
     "380042005a060a0176120131122c0a0d5265616457726974654f6e6365121312110a0773746f72616765"
     "12060a04313047691a002a04666173740a1d0a02687012170a150a082f6465762f73686d120944697265"
     "63746f72790a190a036373691212e2010f0a05782e63736922060a016112016212ae040a046d61696e12"
     "206e7663722e696f2f6e76696469612f7079746f7263683a32342e30312d70793322082d2d65706f6368"
     "732201332a022f7732120a0468747470100018903f22035443502a0032100a0010929501188247220355"
     "44502a003a060a01411201313a1e0a03504f4412001a150a130a027631120d6d657461646174612e6e61"
     "6d653a230a0343505512001a1a12180a046d61696e120a6c696d6974732e6370751a040a02316d3a150a"
     "02434d12001a0d1a0b0a040a02636d12016b18013a130a0353454312001a0a22080a030a017312016b42"
     "6d0a0a0a0363707512030a01340a100a066d656d6f727912060a04333247690a150a0e6e76696469612e"
     "636f6d2f67707512030a0138120d0a0363707512060a043530306d12100a066d656d6f727912060a0431"
     "36476912150a0e6e76696469612e636f6d2f67707512030a01384a130a046461746110011a052f646174"
     "61220032004a1a0a077363726174636810001a082f7363726174636822017832004a170a036366671000"
     "1a042f63666722002a044e6f6e65320062100a080a060a04747275651204220208056a142f6465762f74"
     "65726d696e6174696f6e2d6c6f67720c49664e6f7450726573656e747a360a170a104e45545f42494e44"
     "5f534552564943451203414c4c20e80728013001380040005a100a0e52756e74696d6544656661756c74"
     "8001018801009001019a010d0a02505f12070a050a03636d329a010c0a001a080a040a0273321000a201"
     "0446696c6512360a03646267120762757379626f782a0042006a0072007a0e0a0c0a0a5359535f505452"
     "414345800100880100900100a2010446696c651a094f6e4661696c757265200028901c320c436c757374"
     "657246697273743a1e0a166e76696469612e636f6d2f6770752e70726f64756374120448313030420774"
     "7261696e65724a005200580060006800722520012002200328d00f3a1a0a126e65742e636f72652e736f"
     "6d6178636f6e6e1204313032347a090a0772656763726564820101688a0102736492018f010a380a140a"
     "120a100a047a6f6e651202496e1a01611a01621220080a121c121a0a0d6d657461646174612e6e616d65"
     "12054e6f74496e1a026e3912230a210a10120e0a047465616d1206457869737473120764656661756c74"
     "1a047261636b1a2e122c083212280a0e0a0c0a036170701205747261696e1a166b756265726e65746573"
     "2e696f2f686f73746e616d659a01066d7573746572a201310a04696e6974120762757379626f781a0273"
     "681a022d631a04747275652a0042006a007200800100880100900100a20100a80100b201260a0e6e7669"
     "6469612e636f6d2f67707512064578697374731a00220a4e6f5363686564756c65b2011a0a0174120545"
     "7175616c1a017622094e6f45786563757465283cba01100a0831302e302e302e31120161120162c20104"
     "68696768c801e807d201270a07312e312e312e311207782e6c6f63616c1a0a0a056e646f74731201321a"
     "070a0565646e7330d80101e201090a07782f7265616479ea01066e7669646961f00100fa011450726565"
     "6d70744c6f7765725072696f7269747982020d0a0363707512060a043235306d8a0243080112047a6f6e"
     "651a0d446f4e6f745363686564756c65220e0a0c0a036170701205747261696e28023205486f6e6f7242"
     "11706f642d74656d706c6174652d68617368980200a202070a056c696e7578a80201b202110a0f6d7573"
     "7465722e6465762f67617465ba02100a046770757322086770752d746d706c1a100a001a0022002a0032"
     "004a005a0072001a002200",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"rich-copy\",\"names"
     "pace\":\"default\",\"creationTimestamp\":null},\"spec\":{\"initContainers\":[{\"name"
     "\":\"init\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"true\"],\"resources\""
     ":{}}],\"containers\":[{\"name\":\"main\",\"image\":\"nvcr.io/nvidia/pytorch:24.01-py"
     "3\",\"args\":[\"--epochs\",\"3\"],\"workingDir\":\"/w\",\"ports\":[{\"name\":\"http"
     "\",\"containerPort\":8080,\"protocol\":\"TCP\"},{\"containerPort\":9090,\"hostPort\""
     ":19090,\"protocol\":\"UDP\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\""
     "POD\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.na"
     "me\"}}},{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"containerName\":\"m"
     "ain\",\"resource\":\"limits.cpu\",\"divisor\":\"1m\"}}},{\"name\":\"CM\",\"valueFrom"
     "\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"k\",\"optional\":true}}},{\"name"
     "\":\"SEC\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}],\"envFr"
     "om\":[{\"prefix\":\"P_\",\"configMapRef\":{\"name\":\"cm2\"}},{\"secretRef\":{\"name"
     "\":\"s2\",\"optional\":false}}],\"resources\":{\"limits\":{\"cpu\":\"4\",\"memory\":"
     "\"32Gi\",\"nvidia.com/gpu\":\"8\"},\"requests\":{\"cpu\":\"500m\",\"memory\":\"16Gi"
     "\",\"nvidia.com/gpu\":\"8\"}},\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/"
     "data\",\"readOnly\":true},{\"name\":\"scratch\",\"mountPath\":\"/scratch\",\"subPath"
     "\":\"x\"},{\"name\":\"cfg\",\"mountPath\":\"/cfg\",\"mountPropagation\":\"None\"}],"
     "\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":5}},\"postStart\":{\"exec\":{\"co"
     "mmand\":[\"true\"]}}},\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":0,\"run"
     "AsNonRoot\":true,\"allowPrivilegeEscalation\":false,\"readOnlyRootFilesystem\":true,"
     "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]},\"seccompProfil"
     "e\":{\"type\":\"RuntimeDefault\"}},\"imagePullPolicy\":\"IfNotPresent\",\"terminatio"
     "nMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"stdi"
     "n\":true,\"tty\":true},{\"name\":\"dbg\",\"image\":\"busybox\",\"resources\":{},\"se"
     "curityContext\":{\"capabilities\":{\"add\":[\"SYS_PTRACE\"]}},\"terminationMessagePo"
     "licy\":\"File\"}],\"volumes\":[{\"name\":\"data\",\"persistentVolumeClaim\":{\"claim"
     "Name\":\"pvc1\",\"readOnly\":true}},{\"name\":\"scratch\",\"emptyDir\":{\"medium\":"
     "\"Memory\",\"sizeLimit\":\"1Gi\"}},{\"name\":\"cfg\",\"configMap\":{\"name\":\"cm\","
     "\"defaultMode\":420,\"items\":[{\"key\":\"a\",\"path\":\"a.txt\",\"mode\":256}]}},{"
     "\"name\":\"sec\",\"secret\":{\"secretName\":\"s\",\"optional\":true}},{\"name\":\"pr"
     "oj\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"audience\":\"api\",\"ex"
     "pirationSeconds\":3600,\"path\":\"token\"}},{\"downwardAPI\":{\"items\":[{\"path\":"
     "\"labels\",\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}]}}]}},{\"name\":\"eph\""
     ",\"ephemeral\":{\"volumeClaimTemplate\":{\"metadata\":{\"labels\":{\"v\":\"1\"},\"cr"
     "eationTimestamp\":null},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"storageClass"
     "Name\":\"fast\",\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}}}}},{\"name\":\""
     "hp\",\"hostPath\":{\"path\":\"/dev/shm\",\"type\":\"Directory\"}},{\"name\":\"csi\","
     "\"csi\":{\"driver\":\"x.csi\",\"volumeAttributes\":{\"a\":\"b\"}}}],\"restartPolicy"
     "\":\"OnFailure\",\"terminationGracePeriodSeconds\":0,\"activeDeadlineSeconds\":3600,"
     "\"dnsPolicy\":\"ClusterFirst\",\"nodeSelector\":{\"nvidia.com/gpu.product\":\"H100\""
     "},\"serviceAccountName\":\"trainer\",\"automountServiceAccountToken\":false,\"securi"
     "tyContext\":{\"fsGroup\":2000,\"supplementalGroups\":[1,2,3],\"sysctls\":[{\"name\":"
     "\"net.core.somaxconn\",\"value\":\"1024\"}]},\"imagePullSecrets\":[{\"name\":\"regcr"
     "ed\"}],\"hostname\":\"h\",\"subdomain\":\"sd\",\"affinity\":{\"nodeAffinity\":{\"req"
     "uiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpres"
     "sions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}]},\"prefe"
     "rredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":10,\"preference\":{\"match"
     "Fields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"n9\"]}]}}]"
     "},\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weigh"
     "t\":50,\"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":{\"app\":\"train\"}},"
     "\"topologyKey\":\"kubernetes.io/hostname\"}}]},\"podAffinity\":{\"requiredDuringSche"
     "dulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchExpressions\":[{\"key\":"
     "\"team\",\"operator\":\"Exists\"}]},\"topologyKey\":\"rack\",\"namespaces\":[\"defau"
     "lt\"]}]}},\"schedulerName\":\"muster\",\"tolerations\":[{\"key\":\"nvidia.com/gpu\","
     "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"},{\"key\":\"t\",\"operator\":\"Equ"
     "al\",\"value\":\"v\",\"effect\":\"NoExecute\",\"tolerationSeconds\":60}],\"hostAlias"
     "es\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"a\",\"b\"]}],\"priorityClassName\":\"hig"
     "h\",\"priority\":1000,\"dnsConfig\":{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"x"
     ".local\"],\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}]},"
     "\"readinessGates\":[{\"conditionType\":\"x/ready\"}],\"runtimeClassName\":\"nvidia\""
     ",\"enableServiceLinks\":false,\"preemptionPolicy\":\"PreemptLowerPriority\",\"overhe"
     "ad\":{\"cpu\":\"250m\"},\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey"
     "\":\"zone\",\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels"
     "\":{\"app\":\"train\"}},\"minDomains\":2,\"nodeAffinityPolicy\":\"Honor\",\"matchLab"
     "elKeys\":[\"pod-template-hash\"]}],\"setHostnameAsFQDN\":false,\"os\":{\"name\":\"li"
     "nux\"},\"hostUsers\":true,\"schedulingGates\":[{\"name\":\"muster.dev/gate\"}],\"res"
     "ourceClaims\":[{\"name\":\"gpus\",\"resourceClaimTemplateName\":\"gpu-tmpl\"}],\"sha"
     "reProcessNamespace\":true},\"status\":{}}"},
    {"drain_delete_options", "DeleteOptions",
     "6b3873000a130a027631120d44656c6574654f7074696f6e73120208071a002200",
     "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":7}"},
};

static json_t *decode(struct bs b, const char *kind, enum protobuf_unknown u, char *warn,
                      size_t wsize, struct err *e)
{
    err_clear(e);
    return protobuf_decode(b.p, b.n, kind, u, warn, wsize, e);
}

static void assert_json(json_t *got, const char *want_text)
{
    json_error_t je;
    json_t *want = json_loads(want_text, 0, &je);
    assert_non_null(want);
    if (!got || !json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "got:  %s\nwant: %s\n", g ? g : "(null)", w);
        free(g);
        free(w);
        fail();
    }
    json_decref(want);
}

static void test_kubectl_bodies(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        struct err e;
        char warn[200];
        fprintf(stderr, "  %s\n", v->name);
        json_t *o = decode(hex(v->hex), v->kind, PROTOBUF_UNKNOWN_REJECT, warn, sizeof warn, &e);
        if (!o)
            fprintf(stderr, "  %s: %s\n", v->name, e.msg);
        assert_json(o, v->json);
        assert_string_equal(warn, "");
        json_decref(o);
    }
    bs_free_all();
}

/* ---- through api_handle ---------------------------------------------------- */

struct fixture {
    struct api_ctx ctx;
    struct api_resp r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->ctx.store = store_open_mem(NULL);
    struct err e;
    if (api_namespaces_init(f->ctx.store, &e) < 0) /* default, kube-system, ... */
        fail_msg("%s", e.msg);
    api_resp_init(&f->r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    api_resp_release(&f->r);
    store_close(f->ctx.store);
    free(f);
    bs_free_all();
    return 0;
}

#define PROTOBUF_CT "application/vnd.kubernetes.protobuf"

/* Sends body with content type ct; query is one "k=v" or NULL. */
static int call(struct fixture *f, const char *method, const char *path, const char *query,
                const char *ct, struct bs body)
{
    struct api_req req = {.method = method,
                          .path = path,
                          .content_type = ct,
                          .body = (const char *)body.p,
                          .body_len = body.n};
    char q[128];
    if (query) {
        snprintf(q, sizeof q, "%s", query);
        char *eq = strchr(q, '=');
        *eq = 0;
        req.query[0].key = q;
        req.query[0].value = eq + 1;
        req.n_query = 1;
    }
    api_resp_release(&f->r);
    api_resp_init(&f->r);
    api_handle(&f->ctx, &req, &f->r);
    return f->r.code;
}

static struct bs vec(const char *name)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        if (!strcmp(vectors[i].name, name))
            return hex(vectors[i].hex);
    fail_msg("no vector %s", name);
    return empty;
}

#define has(f, s) assert_non_null(strstr((f)->r.body.buf, s))

static void test_create_through_handler(void **state)
{
    struct fixture *f = *state;
    const char *strict = "fieldValidation=Strict";
    assert_int_equal(
        call(f, "POST", "/api/v1/namespaces", strict, PROTOBUF_CT, vec("create_namespace")), 201);
    has(f, "\"name\":\"team-a\"");
    assert_int_equal(call(f, "POST", "/apis/batch/v1/namespaces/default/jobs", strict, PROTOBUF_CT,
                          vec("create_job_command")),
                     201);
    has(f, "\"command\":[\"python3\",\"-c\",\"print(1)\"]");
    has(f, "\"restartPolicy\":\"Never\"");
    /* PriorityClass is validated by src/model: value 0 must survive the decode. */
    for (const char *const *n =
             (const char *const[]){"create_priorityclass", "create_priorityclass_negative_global",
                                   "create_priorityclass_zero", NULL};
         *n; n++)
        assert_int_equal(call(f, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", strict,
                              PROTOBUF_CT, vec(*n)),
                         201);
    has(f, "\"value\":0");
    assert_int_equal(
        call(f, "GET", "/apis/scheduling.k8s.io/v1/priorityclasses/low", NULL, NULL, empty), 200);
    has(f, "\"value\":-5");
    has(f, "\"globalDefault\":true");
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL, PROTOBUF_CT,
                          vec("debug_copy_to_full_podspec")),
                     201);
    has(f, "\"nvidia.com/gpu\":\"8\"");
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL, PROTOBUF_CT,
                          vec("debug_node_sysadmin")),
                     201);
    /* kubectl drain: DELETE with protobuf DeleteOptions. */
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/node-debugger-n1-rjnxz",
                          NULL, PROTOBUF_CT, vec("drain_delete_options")),
                     200);
    assert_int_equal(
        call(f, "GET", "/api/v1/namespaces/default/pods/node-debugger-n1-rjnxz", NULL, NULL, empty),
        404);
    /* A PUT of a protobuf object: the typed client's Update. */
    assert_int_equal(
        call(f, "PUT", "/api/v1/namespaces/team-a", NULL, PROTOBUF_CT, vec("create_namespace")),
        200);
    /* With no typeMeta in the envelope, apiVersion and kind come from the path. */
    struct bs raw = fb(1, fs(1, "bare"));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", strict, PROTOBUF_CT,
                          cat(hex("6b387300"), fb(2, raw))),
                     201);
    has(f, "\"kind\":\"Namespace\"");
    /* pods/binding with a protobuf Binding (client-go's Bind); rich-copy has a
     * scheduling gate, so it is refused as in Kubernetes. */
    struct bs binding = cat(fb(1, fs(1, "rich-copy")), fb(2, cat(fs(1, "Node"), fs(3, "n1"))));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods/rich-copy/binding", NULL,
                          PROTOBUF_CT, envelope("v1", "Binding", binding)),
                     409);
    has(f, "non-empty .spec.schedulingGates");
    struct bs p = cat(fb(1, fs(1, "p")), fb(2, fb(2, cat(fs(1, "c"), fs(2, "busybox")))));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL, PROTOBUF_CT,
                          envelope("v1", "Pod", p)),
                     201);
    binding = cat(fb(1, fs(1, "p")), fb(2, cat(fs(1, "Node"), fs(3, "n1"))));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods/p/binding", NULL, PROTOBUF_CT,
                          envelope("v1", "Binding", binding)),
                     201);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/p", NULL, NULL, empty), 200);
    has(f, "\"nodeName\":\"n1\"");
}

static void test_refusals_through_handler(void **state)
{
    struct fixture *f = *state;
    /* A kind without tables: 415, naming the media type and what is accepted. */
    assert_int_equal(call(f, "POST", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues", NULL,
                          PROTOBUF_CT, vec("create_namespace")),
                     415);
    has(f, "\"reason\":\"UnsupportedMediaType\"");
    has(f, "application/vnd.kubernetes.protobuf is not supported for ClusterQueue");
    has(f, "send application/json");
    /* A message of another kind than the path's: 400. */
    assert_int_equal(call(f, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, PROTOBUF_CT,
                          vec("debug_node_sysadmin")),
                     400);
    has(f, "it holds a v1 Pod, but this request takes a Job");
    /* The envelope's apiVersion is checked like a JSON body's. */
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", NULL, PROTOBUF_CT,
                          envelope("v2", "Namespace", fb(1, fs(1, "x")))),
                     400);
    has(f, "does not match the expected API version");
    /* JSON still works and is still the default. */
    struct bs json = {(uint8_t *)"{\"metadata\":{\"name\":\"j\"}}", 25};
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", NULL, "application/json", json), 201);
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", NULL, NULL, vec("create_namespace")),
                     400);
    has(f, "not valid JSON");
}

/* Unknown field numbers follow fieldValidation, as unknown JSON fields do. */
static void test_unknown_fields(void **state)
{
    struct fixture *f = *state;
    /* Namespace{metadata{name: NAME, 99: 1}} */
#define UNKNOWN99(name) envelope("v1", "Namespace", fb(1, cat(fs(1, name), fv(99, 1))))
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", "fieldValidation=Strict", PROTOBUF_CT,
                          UNKNOWN99("u")),
                     422);
    has(f, "\"field\":\"metadata\"");
    has(f, "unknown field number 99 in protobuf message "
           "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert_int_equal(
        call(f, "POST", "/api/v1/namespaces", "fieldValidation=Warn", PROTOBUF_CT, UNKNOWN99("u1")),
        201);
    assert_non_null(strstr(f->r.warning, "unknown field number 99"));
    assert_non_null(strstr(f->r.warning, "at metadata"));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", "fieldValidation=Ignore", PROTOBUF_CT,
                          UNKNOWN99("u2")),
                     201);
    assert_string_equal(f->r.warning, "");
#undef UNKNOWN99
    /* Unknown fields of every wire type are skipped whole. */
    struct err e;
    struct bs raw = cat(cat(fb(1, fs(1, "w")), hex("c106"
                                                   "0102030405060708")),
                        cat(hex("cd06"
                                "01020304"),
                            cat(fv(98, 5), fb(97, fs(1, "x")))));
    json_t *o =
        decode(envelope("v1", "Namespace", raw), "Namespace", PROTOBUF_UNKNOWN_DROP, NULL, 0, &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"w\"}}");
    json_decref(o);
    /* At the top level the message names no field. */
    o = decode(envelope("v1", "Namespace", fv(9, 1)), "Namespace", PROTOBUF_UNKNOWN_REJECT, NULL, 0,
               &e);
    assert_null(o);
    assert_int_equal(e.code, EDOM);
    assert_string_equal(e.msg,
                        "unknown field number 9 in protobuf message k8s.io.api.core.v1.Namespace");
}

/* ---- the mapping rules ------------------------------------------------------- */

static json_t *pod(struct bs spec_fields, struct err *e)
{
    return decode(envelope("v1", "Pod", fb(2, spec_fields)), "Pod", PROTOBUF_UNKNOWN_REJECT, NULL,
                  0, e);
}

static void test_mapping(void **state)
{
    struct err e;
    /* Packed and unpacked repeated integers; a negative int32 (10 bytes). */
    struct bs sc = cat(fb(4, hex("0102")), fv(4, 3));
    json_t *o = pod(cat(fb(14, sc), fv(25, (uint64_t)-7)), &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"securityContext\":"
                   "{\"supplementalGroups\":[1,2,3]},\"priority\":-7}}");
    json_decref(o);
    /* A message twice merges, a scalar twice: the last wins; repeated ones add. */
    struct bs meta = cat(fb(1, cat(fs(1, "a"), fs(5, "u1"))),
                         fb(1, cat(fs(5, "u2"), fb(11, cat(fs(1, "k"), fs(2, "v"))))));
    o = decode(envelope("v1", "Namespace", cat(meta, fb(2, cat(fs(1, "f1"), fs(1, "f2"))))),
               "Namespace", PROTOBUF_UNKNOWN_REJECT, NULL, 0, &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\","
                   "\"uid\":\"u2\",\"labels\":{\"k\":\"v\"}},\"spec\":{\"finalizers\":"
                   "[\"f1\",\"f2\"]}}");
    json_decref(o);
    /* Map entries without a key or value; Quantity without its string. */
    struct bs res = cat(fb(1, fs(1, "cpu")), fb(2, fb(2, empty)));
    struct bs c = cat(fs(1, "c"), fb(8, res));
    o = pod(cat(fb(2, c), fb(7, fs(2, "v"))), &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"resources\":{\"limits\":{\"cpu\":\"0\"},\"requests\":{\"\":\"0\"}}}],"
                   "\"nodeSelector\":{\"\":\"v\"}}}");
    json_decref(o);
    /* Time: empty is null; a value is RFC 3339 at seconds (nanos dropped). */
    struct bs t = cat(fb(8, empty), fb(9, cat(fv(1, 1700000000), fv(2, 5))));
    o = decode(envelope("v1", "Namespace", fb(1, cat(t, fb(17, fb(4, fv(1, 0)))))), "Namespace",
               PROTOBUF_UNKNOWN_REJECT, NULL, 0, &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
                   "\"creationTimestamp\":null,\"deletionTimestamp\":\"2023-11-14T22:13:20Z\","
                   "\"managedFields\":[{\"time\":\"1970-01-01T00:00:00Z\"}]}}");
    json_decref(o);
    /* IntOrString both ways; FieldsV1 is raw JSON. */
    struct bs port_int = fb(2, cat(fv(1, 0), cat(fv(2, 8080), fs(3, ""))));
    struct bs port_str = fb(1, cat(fv(1, 1), cat(fv(2, 0), fs(3, "http"))));
    /* Probe's ProbeHandler is inline (field 1). */
    struct bs probe = cat(fb(10, fb(1, fb(2, port_int))), fb(11, fb(1, fb(3, port_str))));
    o = pod(fb(2, cat(fs(1, "c"), probe)), &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"livenessProbe\":{\"httpGet\":{\"port\":8080}},\"readinessProbe\":"
                   "{\"tcpSocket\":{\"port\":\"http\"}}}]}}");
    json_decref(o);
    o = decode(envelope("v1", "Namespace",
                        fb(1, fb(17, cat(fs(6, "FieldsV1"), fb(7, fs(1, "{\"f:a\":{}}")))))),
               "Namespace", PROTOBUF_UNKNOWN_REJECT, NULL, 0, &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"managedFields\":"
                   "[{\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:a\":{}}}]}}");
    json_decref(o);
    /* Inline messages: the ConfigMapKeySelector's LocalObjectReference. */
    struct bs env = fb(7, cat(fs(1, "E"), fb(3, fb(3, cat(fb(1, fs(1, "cm")), fs(2, "k"))))));
    o = pod(fb(2, cat(fs(1, "c"), env)), &e);
    assert_json(o, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"env\":[{\"name\":\"E\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":"
                   "\"cm\",\"key\":\"k\"}}}]}]}}");
    json_decref(o);
    bs_free_all();
}

/* ---- malformed bodies ---------------------------------------------------------- */

struct bad {
    const char *name;
    const char *kind;
    struct bs body;
    int code;
    const char *msg; /* a substring of the error */
};

static void check_bad(const struct bad *b)
{
    struct err e;
    fprintf(stderr, "  %s\n", b->name);
    json_t *o = decode(b->body, b->kind, PROTOBUF_UNKNOWN_REJECT, NULL, 0, &e);
    if (o || e.code != b->code || !strstr(e.msg, b->msg)) {
        fprintf(stderr, "  %s: code %d msg \"%s\", want %d \"%s\"\n", b->name, e.code, e.msg,
                b->code, b->msg);
        json_decref(o);
        fail();
    }
}

static void test_malformed(void **state)
{
    struct bs magic = hex("6b387300");
    struct bs meta = fb(1, fs(1, "x"));
#define NS(raw) envelope("v1", "Namespace", raw)
    const struct bad bad[] = {
        {"empty", "Namespace", empty, EINVAL, "does not start with the 4 bytes"},
        {"short magic", "Namespace", hex("6b3873"), EINVAL, "does not start with"},
        {"wrong magic", "Namespace", hex("6b38730112"), EINVAL, "does not start with"},
        {"truncated key", "Namespace", cat(magic, hex("80")), EINVAL,
         "Unknown: truncated varint (field key)"},
        {"truncated length", "Namespace", cat(magic, hex("12")), EINVAL,
         "Unknown field 2: truncated varint (length)"},
        {"truncated value", "Namespace", NS(hex("08ff")), EINVAL,
         "Namespace field 1: truncated varint (value)"},
        {"overlong varint", "Namespace", NS(hex("08ffffffffffffffffff7f")), EINVAL,
         "varint longer than 10 bytes (value)"},
        {"eleven-byte varint", "Namespace", NS(hex("f8068080808080808080808001")), EINVAL,
         "varint longer than 10 bytes"},
        {"start group", "Namespace", cat(magic, hex("0b")), EINVAL,
         "wire type start-group is not supported"},
        {"end group", "Namespace", NS(hex("0c")), EINVAL, "wire type end-group"},
        {"wire type 6", "Namespace", NS(hex("0e")), EINVAL, "wire type 6 (invalid)"},
        {"wire type 7", "Namespace", NS(hex("0f")), EINVAL, "wire type 7 (invalid)"},
        {"field number 0", "Namespace", NS(hex("0200")), EINVAL, "invalid field number 0"},
        {"length past the end", "Namespace", cat(magic, hex("12050a00")), EINVAL,
         "length 5 past the end of the message (2 bytes left)"},
        {"huge length", "Namespace", cat(magic, hex("12ffffffffffffffff7f00")), EINVAL,
         "length 9223372036854775807 past the end"},
        {"nested length past its message", "Namespace", NS(hex("0a030a0561")), EINVAL,
         "ObjectMeta field 1 at metadata: length 5 past the end of the message (1 bytes left)"},
        {"truncated fixed64", "Namespace", NS(hex("c1060102")), EINVAL, "truncated 64-bit value"},
        {"truncated fixed32", "Namespace", NS(hex("cd0601")), EINVAL, "truncated 32-bit value"},
        {"message as varint", "Namespace", NS(hex("0801")), EINVAL,
         "Namespace field 1: metadata has wire type varint, expected length-delimited"},
        {"string as varint", "Namespace", NS(fb(1, hex("0801"))), EINVAL,
         "ObjectMeta field 1 at metadata: name has wire type varint"},
        {"bool as bytes", "Pod", envelope("v1", "Pod", fb(2, fb(11, hex("01")))), EINVAL,
         "PodSpec field 11 at spec: hostNetwork has wire type length-delimited, expected varint"},
        {"bad packed varint", "Pod", envelope("v1", "Pod", fb(2, fb(14, fb(4, hex("ff"))))), EINVAL,
         "truncated varint (packed value)"},
        {"invalid UTF-8", "Namespace", NS(fb(1, fb(1, hex("ff")))), EINVAL,
         "name is not UTF-8 text"},
        {"overlong UTF-8", "Namespace", NS(fb(1, fb(1, hex("c0af")))), EINVAL, "not UTF-8"},
        {"surrogate", "Namespace", NS(fb(1, fb(1, hex("eda080")))), EINVAL, "not UTF-8"},
        {"NUL in a string", "Namespace", NS(fb(1, fb(1, hex("610062")))), EINVAL, "without NUL"},
        {"invalid UTF-8 map key", "Namespace", NS(fb(1, fb(11, fb(1, hex("fe"))))), EINVAL,
         "map<string, string> entry field 1 at metadata: key is not UTF-8"},
        {"time before year 1", "Namespace", NS(fb(1, fb(8, fv(1, (uint64_t)-62135596801LL)))),
         EINVAL, "creationTimestamp: -62135596801 seconds is outside the years 1 to 9999"},
        {"time after 9999", "Namespace", NS(fb(1, fb(9, fv(1, 253402300800LL)))), EINVAL,
         "outside the years 1 to 9999"},
        {"IntOrString type 2", "Pod",
         envelope("v1", "Pod", fb(2, fb(2, fb(10, fb(1, fb(3, fb(1, fv(1, 2)))))))), EINVAL,
         "IntOrString field 1 at spec.containers[0].livenessProbe.tcpSocket: type 2"},
        {"FieldsV1 not JSON", "Namespace", NS(fb(1, fb(17, fb(7, fs(1, "{"))))), EINVAL,
         "FieldsV1 field 1 at metadata.managedFields[0]: Raw is not JSON"},
        {"unknown field in a list element", "Pod",
         envelope("v1", "Pod", fb(2, cat(fb(2, fs(1, "a")), fb(2, fv(77, 1))))), EDOM,
         "spec.containers[1]: unknown field number 77 in protobuf message "
         "k8s.io.api.core.v1.Container"},
        {"other kind than the path's", "Job", NS(meta), EINVAL,
         "it holds a v1 Namespace, but this request takes a Job"},
        {"gzip content encoding", "Namespace", cat(NS(meta), fs(3, "gzip")), EPROTO,
         "the content encoding \"gzip\" is not supported"},
        {"JSON content type", "Namespace", cat(NS(meta), fs(4, "application/json")), EPROTO,
         "the content type \"application/json\" is not supported"},
        {"kind without tables", "ClusterQueue", NS(meta), EPROTO,
         "is not supported for ClusterQueue (only for Namespace, Pod, Binding, Job, "
         "PriorityClass, DeleteOptions)"},
        {"unknown envelope field", "Namespace", cat(NS(meta), fv(5, 1)), EDOM,
         "unknown field number 5 in protobuf message k8s.io.apimachinery.pkg.runtime.Unknown"},
        {"typeMeta as varint", "Namespace", cat(magic, fv(1, 1)), EINVAL,
         "Unknown field 1: wire type varint, expected length-delimited"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_bad(&bad[i]);
#undef NS
    bs_free_all();
}

/* Deeply nested unknown fields are skipped whole, never descended into: no
 * recursion, whatever the depth (known messages nest only as deep as the
 * tables, see test_tables). */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) {
        v >>= 7;
        n++;
    }
    return n;
}

/* inner wrapped in `levels` messages of field num, built in one buffer. */
static struct bs nested(uint32_t num, size_t levels, struct bs inner)
{
    size_t *len = calloc(levels + 1, sizeof *len);
    uint64_t key = (uint64_t)num << 3 | 2;
    len[0] = inner.n;
    for (size_t i = 1; i <= levels; i++)
        len[i] = varint_len(key) + varint_len(len[i - 1]) + len[i - 1];
    struct bs b = bs_new(len[levels]);
    size_t at = 0;
    for (size_t i = levels; i >= 1; i--) {
        struct bs k = varint(key), l = varint(len[i - 1]);
        memcpy(b.p + at, k.p, k.n);
        memcpy(b.p + at + k.n, l.p, l.n);
        at += k.n + l.n;
        bs_free_all_but(b.p);
    }
    memcpy(b.p + at, inner.p, inner.n);
    free(len);
    return b;
}

static void test_deep_nesting(void **state)
{
    struct bs inner = nested(99, 100000, fv(1, 1));
    struct err e;
    struct bs body = envelope("v1", "Namespace", fb(1, cat(fs(1, "deep"), inner)));
    json_t *o = decode(body, "Namespace", PROTOBUF_UNKNOWN_DROP, NULL, 0, &e);
    assert_json(o,
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"deep\"}}");
    json_decref(o);
    check_bad(&(struct bad){"deep unknown, strict", "Namespace", body, EDOM,
                            "metadata: unknown field number 99"});
    bs_free_all();
}

/* Invariants of the tables: field numbers unique per message, JSON names
 * unique per object (inline members included), acyclic and shallower than
 * PROTOBUF_MAX_DEPTH. */
static int table_depth(const struct protobuf_msg *m, int depth)
{
    assert_true(depth <= PROTOBUF_MAX_DEPTH);
    int max = depth;
    for (size_t i = 0; i < m->n_fields; i++) {
        const struct protobuf_field *f = &m->fields[i];
        assert_true(f->num > 0);
        for (size_t j = i + 1; j < m->n_fields; j++) {
            assert_true(f->num != m->fields[j].num);
            if (f->json && m->fields[j].json)
                assert_string_not_equal(f->json, m->fields[j].json);
        }
        if (f->type == PROTOBUF_MESSAGE || f->type == PROTOBUF_INLINE) {
            assert_non_null(f->msg);
            int d = table_depth(f->msg, depth + 1);
            if (d > max)
                max = d;
        } else {
            assert_null(f->msg);
            assert_non_null(f->json);
        }
    }
    return max;
}

static void test_tables(void **state)
{
    assert_true(protobuf_schema_len() >= 6);
    for (size_t i = 0; i < protobuf_schema_len(); i++) {
        const char *k = protobuf_schema_kind(i);
        assert_true(protobuf_kind_supported(k));
        int d = table_depth(protobuf_schema_find(k), 1);
        fprintf(stderr, "  %s: %d levels\n", k, d);
        /* Time, Quantity and the other scratch messages add one level. */
        assert_true(d + 1 <= PROTOBUF_MAX_DEPTH);
    }
    assert_false(protobuf_kind_supported("ClusterQueue"));
    assert_false(protobuf_kind_supported(NULL));
    assert_true(protobuf_is_media_type("application/vnd.kubernetes.protobuf"));
    assert_true(protobuf_is_media_type("Application/Vnd.Kubernetes.Protobuf; charset=x"));
    assert_true(protobuf_is_media_type(" application/vnd.kubernetes.protobuf ;stream=watch"));
    assert_false(protobuf_is_media_type("application/vnd.kubernetes.protobufx"));
    assert_false(protobuf_is_media_type("application/json"));
    assert_false(protobuf_is_media_type(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubectl_bodies),
        cmocka_unit_test_setup_teardown(test_create_through_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_through_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields, setup, teardown),
        cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
