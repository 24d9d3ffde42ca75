#!/usr/bin/env bash
# Watches whose selector matches none of the events they are woken for (an
# agent watching the pods of its node while other nodes' pods change) must go
# back to sleep: every commit batch wakes them, they find nothing to send and
# suspend again. A wake that arrived while such a stream was looking once left
# its event-loop thread spinning in the stream for good, and every connection
# on that thread (a node's Lease renewals) hung. Here 20 filtered watches are
# woken by 6,000 writes in small commit batches; afterwards the server must become
# idle (under 0.3 s of CPU in a second), answer requests on fresh connections promptly,
# and each watch must still deliver the one event that matches it.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers --store memory --http-threads 2 --http-workers 4

/usr/bin/python3 - "$port" "$server_pid" <<'EOF'
import http.client, json, socket, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
WATCHES, WRITERS, WRITES = 20, 4, 1500  # fewer than a watch's cap of 10,000

def die(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)

def cpu_s():
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / 100.0  # utime + stime, in ticks of 10 ms

def request(method, path, body=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, json.dumps(body) if body else None,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data

rv = json.loads(request("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases")[1])["metadata"]["resourceVersion"]
socks = []
for i in range(WATCHES):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /apis/coordination.k8s.io/v1/namespaces/default/leases?watch=true&resourceVersion={rv}"
              f"&fieldSelector=metadata.name%3Dwanted-{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    socks.append(s)

# Many small batches of events none of the watches wants.
def writer(w):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n in range(WRITES):
        c.request("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                  json.dumps({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                              "metadata": {"name": f"noise-{w}-{n}"}}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            die(f"create: {r.status}")
ts = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
[t.start() for t in ts]
[t.join() for t in ts]

# Idle once the watches have looked at the backlog: a spinning loop thread
# would take a whole core for good.
used = None
for _ in range(30):
    c0 = cpu_s()
    time.sleep(1)
    used = cpu_s() - c0
    if used < 0.3:
        break
else:
    die(f"the server kept using {used:.2f} s of CPU per second with nothing to do")

# Fresh connections land on both loop threads: each must be answered promptly.
for i in range(20):
    t0 = time.time()
    try:
        st, _ = request("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases?limit=1", timeout=3)
    except Exception as e:
        die(f"request {i} on a fresh connection: {e}")
    if st != 200:
        die(f"request {i}: {st}")

# Every watch still delivers what matches it.
for i in range(WATCHES):
    st, _ = request("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": f"wanted-{i}"}})
    if st != 201:
        die(f"create wanted-{i}: {st}")
for i, s in enumerate(socks):
    s.settimeout(20)
    buf = b""
    while f"wanted-{i}".encode() not in buf:
        try:
            d = s.recv(65536)
        except socket.timeout:
            die(f"watch {i} did not deliver its event: {buf[-300:]!r}")
        if not d:
            die(f"watch {i} ended")
        buf += d
    s.close()
print(f"ok: the idle server used {used:.2f} s of CPU in 1 s")
EOF
echo ok
