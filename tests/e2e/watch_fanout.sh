#!/usr/bin/env bash
# The serving model (docs/api.md, "Serving model"): watches are suspended
# connections, not threads. A server with 2 event-loop threads and 4 workers
# holds 300 watches with a bounded number of threads; every watcher receives
# every event of writes sent from 16 connections at once (more than the
# workers); the probes answer while the watches are open; a watcher that hangs
# up is cleaned up at the next event; timeoutSeconds ends a watch on time; and
# SIGTERM ends every open watch (each sees the end of its chunked stream) and
# stops the server promptly, with nothing leaked (ASan build).
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers --store sqlite --http-threads 2 --http-workers 4

python3 - "$port" "$server_pid" <<'EOF'
import json, selectors, socket, sys, threading, time, urllib.request

port, pid = int(sys.argv[1]), int(sys.argv[2])
url = f"http://127.0.0.1:{port}"
WATCHERS, WRITES, WRITERS = 300, 40, 16

def die(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)

def threads():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])

def post(conn, name):
    body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    conn.request("POST", "/api/v1/namespaces", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        die(f"create {name}: {r.status}")

# The list's resourceVersion: watches start from it.
with urllib.request.urlopen(url + "/api/v1/namespaces") as r:
    rv = json.load(r)["metadata"]["resourceVersion"]

# Watchers, from several source addresses (the per-IP cap is 512).
sel = selectors.DefaultSelector()
got = {}
for i in range(WATCHERS):
    s = socket.create_connection(("127.0.0.1", port), source_address=(f"127.0.2.{1 + i % 4}", 0))
    s.sendall(f"GET /api/v1/namespaces?watch=true&resourceVersion={rv} HTTP/1.1\r\n"
              f"Host: x\r\n\r\n".encode())
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
    got[i] = b""

def pump(until, done):
    while time.monotonic() < until and not done():
        for key, _ in sel.select(0.2):
            try:
                b = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            got[key.data] += b
            if not b:
                sel.unregister(key.fileobj)

pump(time.monotonic() + 20, lambda: all(b"\r\n\r\n" in v for v in got.values()))
if not all(v.startswith(b"HTTP/1.1 200") for v in got.values()):
    die("not every watch was answered 200: " + repr([v[:40] for v in got.values()][:3]))
n = threads()
print(f"{WATCHERS} watches open, server threads: {n}", flush=True)
if n > 20:
    die(f"{n} threads for {WATCHERS} watches: a thread per watch?")
t0 = time.monotonic()
with urllib.request.urlopen(url + "/readyz", timeout=5) as r:
    if r.status != 200 or time.monotonic() - t0 > 2:
        die("/readyz is slow or failing with the watches open")

# One watcher hangs up; the others keep going.
gone_sock = [k.fileobj for k in list(sel.get_map().values()) if k.data == 0][0]
sel.unregister(gone_sock)
gone_sock.close()
del got[0]

# Writes from more connections than there are workers.
import http.client
def writer(w):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for j in range(w, WRITES, WRITERS):
        post(c, f"ns-{j}")
    c.close()
ws = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
for t in ws:
    t.start()
def all_events():
    return all(v.count(b'"type":"ADDED"') >= WRITES for v in got.values())
pump(time.monotonic() + 60, lambda: all_events() and not any(t.is_alive() for t in ws))
for t in ws:
    t.join()
short = {i: v.count(b'"type":"ADDED"') for i, v in got.items() if v.count(b'"type":"ADDED"') != WRITES}
if short:
    die(f"{len(short)} watchers did not get exactly {WRITES} events: {list(short.items())[:5]}")
print(f"{WATCHERS - 1} watchers got all {WRITES} events", flush=True)

# timeoutSeconds ends a watch (the chunked stream's last chunk) on time.
t0 = time.monotonic()
with urllib.request.urlopen(url + f"/api/v1/namespaces?watch=true&resourceVersion={rv}"
                            "&timeoutSeconds=1", timeout=10) as r:
    events = r.read().count(b'"type":"ADDED"')
secs = time.monotonic() - t0
if events != WRITES or not 0.9 <= secs < 3:
    die(f"timeoutSeconds=1: {events} events, ended after {secs:.1f} s")
print(f"timeoutSeconds=1: ended after {secs:.1f} s", flush=True)

# SIGTERM: every open watch ends cleanly and the server exits.
import os, signal
os.kill(pid, signal.SIGTERM)
pump(time.monotonic() + 10, lambda: not sel.get_map())
left = [k.data for k in sel.get_map().values()]
if left:
    die(f"{len(left)} watches still open 10 s after SIGTERM")
ended = sum(1 for v in got.values() if v.endswith(b"\r\n0\r\n\r\n"))
if ended != len(got):
    die(f"only {ended} of {len(got)} watches ended with the last chunk")
print(f"SIGTERM: all {len(got)} watches ended with the last chunk", flush=True)
EOF
# The server exits by itself after the SIGTERM above.
for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "the server still runs 10 s after SIGTERM"
wait "$server_pid" || fail "the server exited with status $?"
server_pid=
echo ok
