/*
 * api/protobuf_schema: the protobuf message tables protobuf_decode() walks.
 *
 * One table per message, written from Kubernetes' generated.proto files
 * (k8s.io/api core/v1, batch/v1, scheduling/v1; k8s.io/apimachinery meta/v1,
 * resource, intstr) at field numbers that never change once released. JSON
 * names and the KEEP flag (Go pointer, or no omitempty) follow the Go types'
 * json tags. Tables are defined leaves first, so every reference is to a table
 * above it and the graph is acyclic.
 *
 * What is here: the messages kubectl 1.32 sends (Namespace, Job, PriorityClass,
 * Pod from `kubectl debug`, DeleteOptions from `kubectl drain`), Binding (what
 * client-go's Bind sends), and the whole of PodSpec a typed client may send,
 * except the in-tree cloud and legacy volume sources (gcePersistentDisk,
 * awsElasticBlockStore, gitRepo, iscsi, glusterfs, rbd, flexVolume, cinder,
 * cephfs, flocker, fc, azureFile, vsphereVolume, quobyte, azureDisk,
 * photonPersistentDisk, portworxVolume, scaleIO, storageos), the
 * podCertificate projection, and a few status-only fields (ContainerStatus
 * user and allocatedResourcesStatus, PodStatus extendedResourceClaimStatus).
 * Those are unknown field numbers to the decoder: an error under Strict.
 */
#include <string.h>

#include "api/protobuf.h"

#define META  "k8s.io.apimachinery.pkg.apis.meta.v1."
#define CORE  "k8s.io.api.core.v1."
#define BATCH "k8s.io.api.batch.v1."
#define SCHED "k8s.io.api.scheduling.v1."

#define R PROTOBUF_F_REPEATED
#define K PROTOBUF_F_KEEP

/* clang-format off */
/* Scalars: S string, B bool, I32/I64 integers; suffix K keeps the zero value,
 * suffix R is repeated. */
#define S(n, j)    {n, PROTOBUF_STRING, 0, j, NULL}
#define SK(n, j)   {n, PROTOBUF_STRING, K, j, NULL}
#define SR(n, j)   {n, PROTOBUF_STRING, R, j, NULL}
#define B(n, j)    {n, PROTOBUF_BOOL, 0, j, NULL}
#define BK(n, j)   {n, PROTOBUF_BOOL, K, j, NULL}
#define I32(n, j)  {n, PROTOBUF_INT32, 0, j, NULL}
#define I32K(n, j) {n, PROTOBUF_INT32, K, j, NULL}
#define I32R(n, j) {n, PROTOBUF_INT32, R, j, NULL}
#define I64(n, j)  {n, PROTOBUF_INT64, 0, j, NULL}
#define I64K(n, j) {n, PROTOBUF_INT64, K, j, NULL}
#define I64R(n, j) {n, PROTOBUF_INT64, R, j, NULL}
/* Messages: M one, MR repeated, IN inline (embedded, fields join the parent). */
#define M(n, j, m)  {n, PROTOBUF_MESSAGE, 0, j, &m}
#define MR(n, j, m) {n, PROTOBUF_MESSAGE, R, j, &m}
#define IN(n, m)    {n, PROTOBUF_INLINE, 0, NULL, &m}
/* Well-known types. */
#define MAP(n, j)  {n, PROTOBUF_MAP, 0, j, NULL}
#define QMAP(n, j) {n, PROTOBUF_QMAP, 0, j, NULL}
#define QTY(n, j)  {n, PROTOBUF_QUANTITY, 0, j, NULL}
#define TIME(n, j) {n, PROTOBUF_TIME, 0, j, NULL}
#define IOS(n, j)  {n, PROTOBUF_INTSTR, 0, j, NULL}
#define FV1(n, j)  {n, PROTOBUF_FIELDSV1, 0, j, NULL}

/* clang-format on */

#define MSG(var, name, ...)                                                                        \
    static const struct protobuf_field var##_f[] = {__VA_ARGS__};                                  \
    static const struct protobuf_msg var = {name, var##_f, sizeof var##_f / sizeof var##_f[0]}

/* ---- meta/v1 ------------------------------------------------------------- */

MSG(label_selector_requirement, META "LabelSelectorRequirement", SK(1, "key"), SK(2, "operator"),
    SR(3, "values"));
MSG(label_selector, META "LabelSelector", MAP(1, "matchLabels"),
    MR(2, "matchExpressions", label_selector_requirement));
MSG(owner_reference, META "OwnerReference", SK(5, "apiVersion"), SK(1, "kind"), SK(3, "name"),
    SK(4, "uid"), BK(6, "controller"), BK(7, "blockOwnerDeletion"));
MSG(managed_fields_entry, META "ManagedFieldsEntry", S(1, "manager"), S(2, "operation"),
    S(3, "apiVersion"), TIME(4, "time"), S(6, "fieldsType"), FV1(7, "fieldsV1"),
    S(8, "subresource"));
MSG(object_meta, META "ObjectMeta", S(1, "name"), S(2, "generateName"), S(3, "namespace"),
    S(4, "selfLink"), S(5, "uid"), S(6, "resourceVersion"), I64(7, "generation"),
    TIME(8, "creationTimestamp"), TIME(9, "deletionTimestamp"),
    I64K(10, "deletionGracePeriodSeconds"), MAP(11, "labels"), MAP(12, "annotations"),
    MR(13, "ownerReferences", owner_reference), SR(14, "finalizers"),
    MR(17, "managedFields", managed_fields_entry));
MSG(preconditions, META "Preconditions", SK(1, "uid"), SK(2, "resourceVersion"));
MSG(delete_options, META "DeleteOptions", I64K(1, "gracePeriodSeconds"),
    M(2, "preconditions", preconditions), BK(3, "orphanDependents"), SK(4, "propagationPolicy"),
    SR(5, "dryRun"), BK(6, "ignoreStoreReadErrorWithClusterBreakingPotential"));

/* ---- core/v1: references and selectors ----------------------------------- */

MSG(local_object_reference, CORE "LocalObjectReference", S(1, "name"));
MSG(object_reference, CORE "ObjectReference", S(1, "kind"), S(2, "namespace"), S(3, "name"),
    S(4, "uid"), S(5, "apiVersion"), S(6, "resourceVersion"), S(7, "fieldPath"));
MSG(typed_local_object_reference, CORE "TypedLocalObjectReference", SK(1, "apiGroup"),
    SK(2, "kind"), SK(3, "name"));
MSG(typed_object_reference, CORE "TypedObjectReference", SK(1, "apiGroup"), SK(2, "kind"),
    SK(3, "name"), SK(4, "namespace"));
MSG(object_field_selector, CORE "ObjectFieldSelector", S(1, "apiVersion"), SK(2, "fieldPath"));
MSG(resource_field_selector, CORE "ResourceFieldSelector", S(1, "containerName"), SK(2, "resource"),
    QTY(3, "divisor"));
MSG(config_map_key_selector, CORE "ConfigMapKeySelector", IN(1, local_object_reference),
    SK(2, "key"), BK(3, "optional"));
MSG(secret_key_selector, CORE "SecretKeySelector", IN(1, local_object_reference), SK(2, "key"),
    BK(3, "optional"));
MSG(file_key_selector, CORE "FileKeySelector", SK(1, "volumeName"), SK(2, "path"), SK(3, "key"),
    BK(4, "optional"));

/* ---- core/v1: containers ------------------------------------------------- */

MSG(env_var_source, CORE "EnvVarSource", M(1, "fieldRef", object_field_selector),
    M(2, "resourceFieldRef", resource_field_selector),
    M(3, "configMapKeyRef", config_map_key_selector), M(4, "secretKeyRef", secret_key_selector),
    M(5, "fileKeyRef", file_key_selector));
MSG(env_var, CORE "EnvVar", SK(1, "name"), S(2, "value"), M(3, "valueFrom", env_var_source));
MSG(config_map_env_source, CORE "ConfigMapEnvSource", IN(1, local_object_reference),
    BK(2, "optional"));
MSG(secret_env_source, CORE "SecretEnvSource", IN(1, local_object_reference), BK(2, "optional"));
MSG(env_from_source, CORE "EnvFromSource", S(1, "prefix"),
    M(2, "configMapRef", config_map_env_source), M(3, "secretRef", secret_env_source));
MSG(container_port, CORE "ContainerPort", S(1, "name"), I32(2, "hostPort"),
    I32K(3, "containerPort"), S(4, "protocol"), S(5, "hostIP"));
MSG(resource_claim, CORE "ResourceClaim", SK(1, "name"), S(2, "request"));
MSG(resource_requirements, CORE "ResourceRequirements", QMAP(1, "limits"), QMAP(2, "requests"),
    MR(3, "claims", resource_claim));
MSG(container_resize_policy, CORE "ContainerResizePolicy", SK(1, "resourceName"),
    SK(2, "restartPolicy"));
MSG(container_restart_rule_on_exit_codes, CORE "ContainerRestartRuleOnExitCodes", SK(1, "operator"),
    I32R(2, "values"));
MSG(container_restart_rule, CORE "ContainerRestartRule", SK(1, "action"),
    M(2, "exitCodes", container_restart_rule_on_exit_codes));
MSG(volume_mount, CORE "VolumeMount", SK(1, "name"), B(2, "readOnly"), SK(7, "recursiveReadOnly"),
    SK(3, "mountPath"), S(4, "subPath"), SK(5, "mountPropagation"), S(6, "subPathExpr"));
MSG(volume_device, CORE "VolumeDevice", SK(1, "name"), SK(2, "devicePath"));
MSG(exec_action, CORE "ExecAction", SR(1, "command"));
MSG(http_header, CORE "HTTPHeader", SK(1, "name"), SK(2, "value"));
MSG(http_get_action, CORE "HTTPGetAction", S(1, "path"), IOS(2, "port"), S(3, "host"),
    S(4, "scheme"), MR(5, "httpHeaders", http_header));
MSG(tcp_socket_action, CORE "TCPSocketAction", IOS(1, "port"), S(2, "host"));
MSG(grpc_action, CORE "GRPCAction", I32K(1, "port"), SK(2, "service"));
MSG(sleep_action, CORE "SleepAction", I64K(1, "seconds"));
MSG(probe_handler, CORE "ProbeHandler", M(1, "exec", exec_action), M(2, "httpGet", http_get_action),
    M(3, "tcpSocket", tcp_socket_action), M(4, "grpc", grpc_action));
MSG(probe, CORE "Probe", IN(1, probe_handler), I32(2, "initialDelaySeconds"),
    I32(3, "timeoutSeconds"), I32(4, "periodSeconds"), I32(5, "successThreshold"),
    I32(6, "failureThreshold"), I64K(7, "terminationGracePeriodSeconds"));
MSG(lifecycle_handler, CORE "LifecycleHandler", M(1, "exec", exec_action),
    M(2, "httpGet", http_get_action), M(3, "tcpSocket", tcp_socket_action),
    M(4, "sleep", sleep_action));
MSG(lifecycle, CORE "Lifecycle", M(1, "postStart", lifecycle_handler),
    M(2, "preStop", lifecycle_handler), SK(3, "stopSignal"));
MSG(capabilities, CORE "Capabilities", SR(1, "add"), SR(2, "drop"));
MSG(se_linux_options, CORE "SELinuxOptions", S(1, "user"), S(2, "role"), S(3, "type"),
    S(4, "level"));
MSG(windows_security_context_options, CORE "WindowsSecurityContextOptions",
    SK(1, "gmsaCredentialSpecName"), SK(2, "gmsaCredentialSpec"), SK(3, "runAsUserName"),
    BK(4, "hostProcess"));
MSG(seccomp_profile, CORE "SeccompProfile", SK(1, "type"), SK(2, "localhostProfile"));
MSG(app_armor_profile, CORE "AppArmorProfile", SK(1, "type"), SK(2, "localhostProfile"));
MSG(ulimit, CORE "Ulimit", SK(1, "name"), I64K(2, "hard"), I64K(3, "soft"));
MSG(security_context, CORE "SecurityContext", M(1, "capabilities", capabilities),
    BK(2, "privileged"), M(3, "seLinuxOptions", se_linux_options),
    M(10, "windowsOptions", windows_security_context_options), I64K(4, "runAsUser"),
    I64K(8, "runAsGroup"), BK(5, "runAsNonRoot"), BK(6, "readOnlyRootFilesystem"),
    BK(7, "allowPrivilegeEscalation"), SK(9, "procMount"), M(11, "seccompProfile", seccomp_profile),
    M(12, "appArmorProfile", app_armor_profile), MR(13, "ulimits", ulimit));

/* Container and EphemeralContainerCommon share their field numbers. */
#define CONTAINER_FIELDS                                                                           \
    SK(1, "name"), S(2, "image"), SR(3, "command"), SR(4, "args"), S(5, "workingDir"),             \
        MR(6, "ports", container_port), MR(19, "envFrom", env_from_source), MR(7, "env", env_var), \
        M(8, "resources", resource_requirements), MR(23, "resizePolicy", container_resize_policy), \
        SK(24, "restartPolicy"), MR(25, "restartPolicyRules", container_restart_rule),             \
        MR(9, "volumeMounts", volume_mount), MR(21, "volumeDevices", volume_device),               \
        M(10, "livenessProbe", probe), M(11, "readinessProbe", probe),                             \
        M(22, "startupProbe", probe), M(12, "lifecycle", lifecycle),                               \
        S(13, "terminationMessagePath"), S(20, "terminationMessagePolicy"),                        \
        S(14, "imagePullPolicy"), M(15, "securityContext", security_context), B(16, "stdin"),      \
        B(17, "stdinOnce"), B(18, "tty")
MSG(container, CORE "Container", CONTAINER_FIELDS);
MSG(ephemeral_container_common, CORE "EphemeralContainerCommon", CONTAINER_FIELDS);
MSG(ephemeral_container, CORE "EphemeralContainer", IN(1, ephemeral_container_common),
    S(2, "targetContainerName"));

/* ---- core/v1: volumes ---------------------------------------------------- */

MSG(key_to_path, CORE "KeyToPath", SK(1, "key"), SK(2, "path"), I32K(3, "mode"));
MSG(host_path_volume_source, CORE "HostPathVolumeSource", SK(1, "path"), SK(2, "type"));
MSG(empty_dir_volume_source, CORE "EmptyDirVolumeSource", S(1, "medium"), QTY(2, "sizeLimit"));
MSG(secret_volume_source, CORE "SecretVolumeSource", S(1, "secretName"),
    MR(2, "items", key_to_path), I32K(3, "defaultMode"), BK(4, "optional"));
MSG(config_map_volume_source, CORE "ConfigMapVolumeSource", IN(1, local_object_reference),
    MR(2, "items", key_to_path), I32K(3, "defaultMode"), BK(4, "optional"));
MSG(nfs_volume_source, CORE "NFSVolumeSource", SK(1, "server"), SK(2, "path"), B(3, "readOnly"));
MSG(pvc_volume_source, CORE "PersistentVolumeClaimVolumeSource", SK(1, "claimName"),
    B(2, "readOnly"));
MSG(downward_api_volume_file, CORE "DownwardAPIVolumeFile", SK(1, "path"),
    M(2, "fieldRef", object_field_selector), M(3, "resourceFieldRef", resource_field_selector),
    I32K(4, "mode"));
MSG(downward_api_volume_source, CORE "DownwardAPIVolumeSource",
    MR(1, "items", downward_api_volume_file), I32K(2, "defaultMode"));
MSG(downward_api_projection, CORE "DownwardAPIProjection",
    MR(1, "items", downward_api_volume_file));
MSG(secret_projection, CORE "SecretProjection", IN(1, local_object_reference),
    MR(2, "items", key_to_path), BK(4, "optional"));
MSG(config_map_projection, CORE "ConfigMapProjection", IN(1, local_object_reference),
    MR(2, "items", key_to_path), BK(4, "optional"));
MSG(service_account_token_projection, CORE "ServiceAccountTokenProjection", S(1, "audience"),
    I64K(2, "expirationSeconds"), SK(3, "path"));
MSG(cluster_trust_bundle_projection, CORE "ClusterTrustBundleProjection", SK(1, "name"),
    SK(2, "signerName"), M(3, "labelSelector", label_selector), BK(5, "optional"), SK(4, "path"));
MSG(volume_projection, CORE "VolumeProjection", M(1, "secret", secret_projection),
    M(2, "downwardAPI", downward_api_projection), M(3, "configMap", config_map_projection),
    M(4, "serviceAccountToken", service_account_token_projection),
    M(5, "clusterTrustBundle", cluster_trust_bundle_projection));
MSG(projected_volume_source, CORE "ProjectedVolumeSource", MR(1, "sources", volume_projection),
    I32K(2, "defaultMode"));
MSG(csi_volume_source, CORE "CSIVolumeSource", SK(1, "driver"), BK(2, "readOnly"), SK(3, "fsType"),
    MAP(4, "volumeAttributes"), M(5, "nodePublishSecretRef", local_object_reference));
MSG(volume_resource_requirements, CORE "VolumeResourceRequirements", QMAP(1, "limits"),
    QMAP(2, "requests"));
MSG(pvc_spec, CORE "PersistentVolumeClaimSpec", SR(1, "accessModes"),
    M(4, "selector", label_selector), M(2, "resources", volume_resource_requirements),
    S(3, "volumeName"), SK(5, "storageClassName"), SK(6, "volumeMode"),
    M(7, "dataSource", typed_local_object_reference), M(8, "dataSourceRef", typed_object_reference),
    SK(9, "volumeAttributesClassName"));
MSG(pvc_template, CORE "PersistentVolumeClaimTemplate", M(1, "metadata", object_meta),
    M(2, "spec", pvc_spec));
MSG(ephemeral_volume_source, CORE "EphemeralVolumeSource",
    M(1, "volumeClaimTemplate", pvc_template));
MSG(image_volume_source, CORE "ImageVolumeSource", S(1, "reference"), S(2, "pullPolicy"));
MSG(volume_source, CORE "VolumeSource", M(1, "hostPath", host_path_volume_source),
    M(2, "emptyDir", empty_dir_volume_source), M(6, "secret", secret_volume_source),
    M(7, "nfs", nfs_volume_source), M(10, "persistentVolumeClaim", pvc_volume_source),
    M(16, "downwardAPI", downward_api_volume_source), M(19, "configMap", config_map_volume_source),
    M(26, "projected", projected_volume_source), M(28, "csi", csi_volume_source),
    M(29, "ephemeral", ephemeral_volume_source), M(30, "image", image_volume_source));
MSG(volume, CORE "Volume", SK(1, "name"), IN(2, volume_source));

/* ---- core/v1: scheduling constraints ------------------------------------- */

MSG(node_selector_requirement, CORE "NodeSelectorRequirement", SK(1, "key"), SK(2, "operator"),
    SR(3, "values"));
MSG(node_selector_term, CORE "NodeSelectorTerm",
    MR(1, "matchExpressions", node_selector_requirement),
    MR(2, "matchFields", node_selector_requirement));
MSG(node_selector, CORE "NodeSelector", MR(1, "nodeSelectorTerms", node_selector_term));
MSG(preferred_scheduling_term, CORE "PreferredSchedulingTerm", I32K(1, "weight"),
    M(2, "preference", node_selector_term));
MSG(node_affinity, CORE "NodeAffinity",
    M(1, "requiredDuringSchedulingIgnoredDuringExecution", node_selector),
    MR(2, "preferredDuringSchedulingIgnoredDuringExecution", preferred_scheduling_term));
MSG(pod_affinity_term, CORE "PodAffinityTerm", M(1, "labelSelector", label_selector),
    SR(2, "namespaces"), SK(3, "topologyKey"), M(4, "namespaceSelector", label_selector),
    SR(5, "matchLabelKeys"), SR(6, "mismatchLabelKeys"));
MSG(weighted_pod_affinity_term, CORE "WeightedPodAffinityTerm", I32K(1, "weight"),
    M(2, "podAffinityTerm", pod_affinity_term));
MSG(pod_affinity, CORE "PodAffinity",
    MR(1, "requiredDuringSchedulingIgnoredDuringExecution", pod_affinity_term),
    MR(2, "preferredDuringSchedulingIgnoredDuringExecution", weighted_pod_affinity_term));
/* PodAntiAffinity has PodAffinity's fields. */
static const struct protobuf_msg pod_anti_affinity = {
    CORE "PodAntiAffinity", pod_affinity_f, sizeof pod_affinity_f / sizeof pod_affinity_f[0]};
MSG(affinity, CORE "Affinity", M(1, "nodeAffinity", node_affinity),
    M(2, "podAffinity", pod_affinity), M(3, "podAntiAffinity", pod_anti_affinity));
MSG(toleration, CORE "Toleration", S(1, "key"), S(2, "operator"), S(3, "value"), S(4, "effect"),
    I64K(5, "tolerationSeconds"));
MSG(topology_spread_constraint, CORE "TopologySpreadConstraint", I32K(1, "maxSkew"),
    SK(2, "topologyKey"), SK(3, "whenUnsatisfiable"), M(4, "labelSelector", label_selector),
    I32K(5, "minDomains"), SK(6, "nodeAffinityPolicy"), SK(7, "nodeTaintsPolicy"),
    SR(8, "matchLabelKeys"));

/* ---- core/v1: the pod ---------------------------------------------------- */

MSG(host_alias, CORE "HostAlias", SK(1, "ip"), SR(2, "hostnames"));
MSG(pod_dns_config_option, CORE "PodDNSConfigOption", S(1, "name"), SK(2, "value"));
MSG(pod_dns_config, CORE "PodDNSConfig", SR(1, "nameservers"), SR(2, "searches"),
    MR(3, "options", pod_dns_config_option));
MSG(pod_readiness_gate, CORE "PodReadinessGate", SK(1, "conditionType"));
MSG(pod_os, CORE "PodOS", SK(1, "name"));
MSG(pod_scheduling_gate, CORE "PodSchedulingGate", SK(1, "name"));
MSG(pod_resource_claim, CORE "PodResourceClaim", SK(1, "name"), SK(3, "resourceClaimName"),
    SK(4, "resourceClaimTemplateName"));
MSG(sysctl, CORE "Sysctl", SK(1, "name"), SK(2, "value"));
MSG(pod_security_context, CORE "PodSecurityContext", M(1, "seLinuxOptions", se_linux_options),
    M(8, "windowsOptions", windows_security_context_options), I64K(2, "runAsUser"),
    I64K(6, "runAsGroup"), BK(3, "runAsNonRoot"), I64R(4, "supplementalGroups"),
    SK(12, "supplementalGroupsPolicy"), I64K(5, "fsGroup"), MR(7, "sysctls", sysctl),
    SK(9, "fsGroupChangePolicy"), M(10, "seccompProfile", seccomp_profile),
    M(11, "appArmorProfile", app_armor_profile), SK(13, "seLinuxChangePolicy"));
MSG(workload_reference, CORE "WorkloadReference", SK(1, "name"), SK(2, "podGroup"),
    S(3, "podGroupReplicaKey"));
MSG(pod_spec, CORE "PodSpec", MR(1, "volumes", volume), MR(20, "initContainers", container),
    MR(2, "containers", container), MR(34, "ephemeralContainers", ephemeral_container),
    S(3, "restartPolicy"), I64K(4, "terminationGracePeriodSeconds"),
    I64K(5, "activeDeadlineSeconds"), S(6, "dnsPolicy"), MAP(7, "nodeSelector"),
    S(8, "serviceAccountName"), S(9, "serviceAccount"), BK(21, "automountServiceAccountToken"),
    S(10, "nodeName"), B(11, "hostNetwork"), B(12, "hostPID"), B(13, "hostIPC"),
    BK(27, "shareProcessNamespace"), M(14, "securityContext", pod_security_context),
    MR(15, "imagePullSecrets", local_object_reference), S(16, "hostname"), S(17, "subdomain"),
    M(18, "affinity", affinity), S(19, "schedulerName"), MR(22, "tolerations", toleration),
    MR(23, "hostAliases", host_alias), S(24, "priorityClassName"), I32K(25, "priority"),
    M(26, "dnsConfig", pod_dns_config), MR(28, "readinessGates", pod_readiness_gate),
    SK(29, "runtimeClassName"), BK(30, "enableServiceLinks"), SK(31, "preemptionPolicy"),
    QMAP(32, "overhead"), MR(33, "topologySpreadConstraints", topology_spread_constraint),
    BK(35, "setHostnameAsFQDN"), M(36, "os", pod_os), BK(37, "hostUsers"),
    MR(38, "schedulingGates", pod_scheduling_gate), MR(39, "resourceClaims", pod_resource_claim),
    M(40, "resources", resource_requirements), SK(41, "hostnameOverride"),
    M(42, "workloadRef", workload_reference));

MSG(pod_condition, CORE "PodCondition", SK(1, "type"), I64(7, "observedGeneration"),
    SK(2, "status"), TIME(3, "lastProbeTime"), TIME(4, "lastTransitionTime"), S(5, "reason"),
    S(6, "message"));
MSG(container_state_waiting, CORE "ContainerStateWaiting", S(1, "reason"), S(2, "message"));
MSG(container_state_running, CORE "ContainerStateRunning", TIME(1, "startedAt"));
MSG(container_state_terminated, CORE "ContainerStateTerminated", I32K(1, "exitCode"),
    I32(2, "signal"), S(3, "reason"), S(4, "message"), TIME(5, "startedAt"), TIME(6, "finishedAt"),
    S(7, "containerID"));
MSG(container_state, CORE "ContainerState", M(1, "waiting", container_state_waiting),
    M(2, "running", container_state_running), M(3, "terminated", container_state_terminated));
MSG(volume_mount_status, CORE "VolumeMountStatus", SK(1, "name"), SK(2, "mountPath"),
    B(3, "readOnly"), SK(4, "recursiveReadOnly"));
MSG(container_status, CORE "ContainerStatus", SK(1, "name"), M(2, "state", container_state),
    M(3, "lastState", container_state), BK(4, "ready"), I32K(5, "restartCount"), SK(6, "image"),
    SK(7, "imageID"), S(8, "containerID"), BK(9, "started"), QMAP(10, "allocatedResources"),
    M(11, "resources", resource_requirements), MR(12, "volumeMounts", volume_mount_status),
    SK(15, "stopSignal"));
MSG(pod_ip, CORE "PodIP", SK(1, "ip"));
MSG(host_ip, CORE "HostIP", SK(1, "ip"));
MSG(pod_resource_claim_status, CORE "PodResourceClaimStatus", SK(1, "name"),
    SK(2, "resourceClaimName"));
MSG(pod_status, CORE "PodStatus", I64(17, "observedGeneration"), S(1, "phase"),
    MR(2, "conditions", pod_condition), S(3, "message"), S(4, "reason"), S(11, "nominatedNodeName"),
    S(5, "hostIP"), MR(16, "hostIPs", host_ip), S(6, "podIP"), MR(12, "podIPs", pod_ip),
    TIME(7, "startTime"), MR(10, "initContainerStatuses", container_status),
    MR(8, "containerStatuses", container_status), S(9, "qosClass"),
    MR(13, "ephemeralContainerStatuses", container_status), S(14, "resize"),
    MR(15, "resourceClaimStatuses", pod_resource_claim_status), QMAP(19, "allocatedResources"),
    M(20, "resources", resource_requirements));
MSG(pod, CORE "Pod", M(1, "metadata", object_meta), M(2, "spec", pod_spec),
    M(3, "status", pod_status));
MSG(pod_template_spec, CORE "PodTemplateSpec", M(1, "metadata", object_meta),
    M(2, "spec", pod_spec));
MSG(binding, CORE "Binding", M(1, "metadata", object_meta), M(2, "target", object_reference));

/* ---- core/v1: the namespace ---------------------------------------------- */

MSG(namespace_condition, CORE "NamespaceCondition", SK(1, "type"), SK(2, "status"),
    TIME(4, "lastTransitionTime"), S(5, "reason"), S(6, "message"));
MSG(namespace_spec, CORE "NamespaceSpec", SR(1, "finalizers"));
MSG(namespace_status, CORE "NamespaceStatus", S(1, "phase"),
    MR(2, "conditions", namespace_condition));
MSG(namespace, CORE "Namespace", M(1, "metadata", object_meta), M(2, "spec", namespace_spec),
    M(3, "status", namespace_status));

/* ---- batch/v1 ------------------------------------------------------------ */

MSG(pod_failure_policy_on_exit_codes, BATCH "PodFailurePolicyOnExitCodesRequirement",
    SK(1, "containerName"), SK(2, "operator"), I32R(3, "values"));
MSG(pod_failure_policy_on_pod_conditions, BATCH "PodFailurePolicyOnPodConditionsPattern",
    SK(1, "type"), SK(2, "status"));
MSG(pod_failure_policy_rule, BATCH "PodFailurePolicyRule", SK(1, "action"),
    M(2, "onExitCodes", pod_failure_policy_on_exit_codes),
    MR(3, "onPodConditions", pod_failure_policy_on_pod_conditions));
MSG(pod_failure_policy, BATCH "PodFailurePolicy", MR(1, "rules", pod_failure_policy_rule));
MSG(success_policy_rule, BATCH "SuccessPolicyRule", SK(1, "succeededIndexes"),
    I32K(2, "succeededCount"));
MSG(success_policy, BATCH "SuccessPolicy", MR(1, "rules", success_policy_rule));
MSG(job_spec, BATCH "JobSpec", I32K(1, "parallelism"), I32K(2, "completions"),
    I64K(3, "activeDeadlineSeconds"), M(11, "podFailurePolicy", pod_failure_policy),
    M(16, "successPolicy", success_policy), I32K(7, "backoffLimit"),
    I32K(12, "backoffLimitPerIndex"), I32K(13, "maxFailedIndexes"),
    M(4, "selector", label_selector), BK(5, "manualSelector"), M(6, "template", pod_template_spec),
    I32K(8, "ttlSecondsAfterFinished"), SK(9, "completionMode"), BK(10, "suspend"),
    SK(14, "podReplacementPolicy"), SK(15, "managedBy"));
MSG(job_condition, BATCH "JobCondition", SK(1, "type"), SK(2, "status"), TIME(3, "lastProbeTime"),
    TIME(4, "lastTransitionTime"), S(5, "reason"), S(6, "message"));
MSG(uncounted_terminated_pods, BATCH "UncountedTerminatedPods", SR(1, "succeeded"),
    SR(2, "failed"));
MSG(job_status, BATCH "JobStatus", MR(1, "conditions", job_condition), TIME(2, "startTime"),
    TIME(3, "completionTime"), I32(4, "active"), I32(5, "succeeded"), I32(6, "failed"),
    I32K(11, "terminating"), S(7, "completedIndexes"), SK(10, "failedIndexes"),
    M(8, "uncountedTerminatedPods", uncounted_terminated_pods), I32K(9, "ready"));
MSG(job, BATCH "Job", M(1, "metadata", object_meta), M(2, "spec", job_spec),
    M(3, "status", job_status));

/* ---- scheduling.k8s.io/v1 ------------------------------------------------ */

MSG(priority_class, SCHED "PriorityClass", M(1, "metadata", object_meta), I32K(2, "value"),
    B(3, "globalDefault"), S(4, "description"), SK(5, "preemptionPolicy"));

/* ---- the kinds ----------------------------------------------------------- */

static const struct {
    const char *kind;
    const struct protobuf_msg *msg;
} kinds[] = {
    {"Namespace", &namespace},
    {"Pod", &pod},
    {"Binding", &binding},
    {"Job", &job},
    {"PriorityClass", &priority_class},
    {"DeleteOptions", &delete_options},
};

const struct protobuf_msg *protobuf_schema_find(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind))
            return kinds[i].msg;
    return NULL;
}

size_t protobuf_schema_len(void)
{
    return sizeof kinds / sizeof kinds[0];
}

const char *protobuf_schema_kind(size_t i)
{
    return i < protobuf_schema_len() ? kinds[i].kind : NULL;
}
