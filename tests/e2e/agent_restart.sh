#!/usr/bin/env bash
# The node agent survives kill -9: its containers run on under their shims. A new
# agent on the same data directory adopts a container that still runs (no second
# process; its end is reported), reports the real exit code of one that ended while
# no agent ran, and kills and cleans up a pod that was force-deleted meanwhile.
source "$(dirname "$0")/lib.sh"
e2e_need_agent
e2e_start
agent_start n1 2xA100-40GB zone=a
log=$tmp/agents/n1.log

kubectl apply -f - > /dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: long}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - name: main
    image: x
    command: [sh, -c, "echo \$\$ >> \$RUNS; sleep 5; echo finished"]
    env: [{name: RUNS, value: "$tmp/long-runs"}]
---
apiVersion: v1
kind: Pod
metadata: {name: short}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - {name: main, image: x, command: [sh, -c, "sleep 1; exit 7"]}
---
apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  nodeName: n1
  restartPolicy: Never
  containers:
  - name: main
    image: x
    command: [sh, -c, "echo \$\$ > \$PIDF; exec sleep 300"]
    env: [{name: PIDF, value: "$tmp/orphan-pid"}]
EOF

phase() { jp "pod/$1" '.status.phase'; }
phase_is() { [ "$(phase "$1")" = "$2" ]; }
for p in long short orphan; do
    E2E_WAIT=30 wait_for "$p Running" phase_is $p Running
done
wait_for "orphan's pid" test -s "$tmp/orphan-pid"
orphan_uid=$(jp pod/orphan '.metadata.uid')
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null || true

# While no agent runs: short ends, orphan is force-deleted.
sleep 1.5
kubectl delete pod orphan --grace-period=0 --force > /dev/null 2>&1
kubectl get pod orphan > /dev/null 2>&1 && fail "orphan not deleted"
[ "$(phase short)" = Running ] || fail "short changed with no agent: $(phase short)"

agent_start n1 2xA100-40GB zone=a
E2E_WAIT=30 wait_for "short Failed" phase_is short Failed
[ "$(jp pod/short '.status.containerStatuses[0].state.terminated.exitCode')" = 7 ] ||
    fail "short: exit code $(jp pod/short '.status.containerStatuses[0].state.terminated.exitCode')"
grep -q "pod default/long: container main adopted" "$log" || fail "long not adopted"
E2E_WAIT=30 wait_for "long Succeeded" phase_is long Succeeded
[ "$(wc -l < "$tmp/long-runs")" = 1 ] || fail "long ran $(wc -l < "$tmp/long-runs") times"
[ "$(kubectl logs long)" = finished ] || fail "logs of the adopted container"

# The sweep kills what is left of the deleted pod and removes its directory.
orphan=$(cat "$tmp/orphan-pid")
dead() { ! kill -0 "$1"; }
E2E_WAIT=30 wait_for "the force-deleted pod's process $orphan to be killed" dead "$orphan"
E2E_WAIT=30 wait_for "the force-deleted pod's directory removed" test ! -d "$tmp/agents/n1/pods/$orphan_uid"

# A second agent on the same data directory is refused.
"$bin" agent --server "$url" --name n1 --data-dir "$tmp/agents/n1" 2> "$tmp/second.log" &&
    fail "a second agent ran"
grep -q "another agent is using it" "$tmp/second.log" || fail "$(cat "$tmp/second.log")"
echo ok
