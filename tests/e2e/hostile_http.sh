#!/usr/bin/env bash
# Hostile HTTP clients cannot crash the server, wedge it or change the store: slow
# headers (slowloris), too many headers and an oversized header, a truncated body
# under a large Content-Length, invalid chunked encoding, non-UTF-8 JSON, a nesting
# depth bomb, huge numbers, duplicate Content-Length and Content-Length with chunked
# (request smuggling). After each case the server answers /readyz and the store's
# revision (a list's resourceVersion) is what it was. Raw requests are written with
# Python's socket module: curl will not send most of them.
#
# The idle-timeout check (a connection that stops halfway through its headers is
# closed) waits for the server's 60 s idle timeout, so it runs beside the others from
# the start; MUSTER_E2E_QUICK=1 skips it.
source "$(dirname "$0")/lib.sh"
e2e_start --no-controllers --store sqlite
leases=/apis/coordination.k8s.io/v1/namespaces/default/leases
expect_code 201 POST "$leases" -H 'Content-Type: application/json' \
    -d '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"keep"}}'

python3 - "$port" "$leases" "${MUSTER_E2E_QUICK:-0}" <<'EOF'
import json, socket, sys, threading, time, urllib.request

port, leases, quick = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
url = f"http://127.0.0.1:{port}"
LEASE = '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"}%s}'

def die(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)

def http(path, timeout=10):
    try:
        with urllib.request.urlopen(url + path, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def revision():
    code, body = http(leases)
    if code != 200:
        die(f"list: {code} {body[:200]}")
    d = json.loads(body)
    return d["metadata"]["resourceVersion"], sorted(o["metadata"]["name"] for o in d["items"])

def healthy(case, before):
    code, body = http("/readyz")
    if code != 200:
        die(f"{case}: /readyz answered {code} {body[:200]}")
    after = revision()
    if after != before:
        die(f"{case}: the store changed: {before} -> {after}")

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s

def exchange(raw, shut=True, timeout=10):
    """Sends raw bytes, half-closes, and returns everything the server sent back
    (b'' when it closed without answering)."""
    s = connect()
    s.settimeout(timeout)
    try:
        s.sendall(raw)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        # The server may already have answered and closed (a refused request):
        # sendall or shutdown then fail with EPIPE, ECONNRESET or ENOTCONN.
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (OSError, socket.timeout):
        pass
    s.close()
    return out

def status_codes(resp):
    """Every HTTP status line's code in a response stream (pipelined answers)."""
    codes = []
    for line in resp.split(b"\r\n"):
        if line.startswith(b"HTTP/1."):
            codes.append(int(line.split()[1]))
    return codes

def post(body, ctype="application/json", extra=b""):
    if isinstance(body, str):
        body = body.encode()
    return (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode() + extra + b"\r\n" + body

def expect(case, resp, allowed, before, closed_ok=False):
    codes = status_codes(resp)
    if (codes or not closed_ok) and (not codes or codes[0] not in allowed):
        die(f"{case}: want one of {allowed}, got {codes or 'no answer'}: {resp[:300]!r}")
    if any(c == 201 for c in codes):
        die(f"{case}: something was created: {resp[:600]!r}")
    healthy(case, before)
    print(f"{case}: {codes[0] if codes else 'closed'}", flush=True)

before = revision()

# -- idle connection halfway through its headers: closed by the idle timeout -------
idle_result = {}
def idle_conn():
    s = connect()
    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    t0 = time.monotonic()
    s.settimeout(90)
    try:
        idle_result["data"] = s.recv(4096)
    except socket.timeout:
        idle_result["data"] = None
    except ConnectionResetError:
        idle_result["data"] = b""
    idle_result["secs"] = time.monotonic() - t0
    s.close()
idle = threading.Thread(target=idle_conn, daemon=True)
if not quick:
    idle.start()

# -- slowloris: many connections trickling headers; others are still served --------
slow = []
for i in range(64):
    s = connect()
    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
for rnd in range(3):
    for s in slow:
        s.sendall(b"X-Trickle-%d: a\r\n" % rnd)
    t0 = time.monotonic()
    code, _ = http("/readyz", timeout=5)
    if code != 200 or time.monotonic() - t0 > 2:
        die(f"slowloris: /readyz {code} after {time.monotonic() - t0:.1f} s")
    time.sleep(0.3)
for s in slow:
    s.close()
healthy("slowloris", before)
print("slowloris: others served", flush=True)

# -- too many headers, and one oversized header: 431 (or 400), no crash -------------
many = b"".join(b"X-H-%d: v\r\n" % i for i in range(8000))
expect("too many headers", exchange(b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"),
       (400, 431), before)
big = b"X-Big: " + b"a" * (200 * 1024) + b"\r\n"
expect("oversized header", exchange(b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"),
       (400, 431), before)
expect("oversized request line",
       exchange(b"GET /readyz?" + b"a" * (100 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
       (400, 414, 431), before)
expect("oversized header, POST",
       exchange(post(LEASE % ("hdr", ""), extra=big)), (400, 431), before)

# -- truncated bodies: the client promises more than it sends, then goes away -------
body = (LEASE % ("trunc", "")).encode()
raw = (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       f"Content-Length: 2000000\r\n\r\n").encode() + body
resp = exchange(raw, timeout=3)  # the server waits for the rest; the client hangs up
if 201 in status_codes(resp):
    die(f"truncated body: created: {resp[:300]!r}")
healthy("truncated body", before)
print(f"truncated body: {status_codes(resp) or 'closed'}", flush=True)
s = connect()  # and the same, closing without a half-close first
s.sendall(raw)
s.close()
raw_big = (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: 99999999999\r\n\r\n").encode() + body
expect("huge Content-Length", exchange(raw_big), (413,), before)
raw_neg = (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: -5\r\n\r\n").encode() + body
expect("negative Content-Length", exchange(raw_neg), (400, 413), before)
raw_ovf = (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: 184467440737095516160\r\n\r\n").encode() + body
expect("overflowing Content-Length", exchange(raw_ovf), (400, 413), before)

# -- invalid chunked encoding --------------------------------------------------------
def chunked(payload):
    return (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode() + payload
lease = (LEASE % ("chunk", "")).encode()
for case, payload in (
        ("chunk size not hex", b"zz\r\n" + lease + b"\r\n0\r\n\r\n"),
        ("chunk size too long", b"%x\r\n" % (len(lease) + 500) + lease + b"\r\n0\r\n\r\n"),
        ("chunk size overflow", b"fffffffffffffffffffffff\r\n" + lease + b"\r\n0\r\n\r\n"),
        ("chunk missing CRLF", b"%x\r\n" % len(lease) + lease + b"XX0\r\n\r\n"),
        ("chunk negative size", b"-1\r\n" + lease + b"\r\n0\r\n\r\n"),
        ("chunks never end", b"%x\r\n" % len(lease) + lease + b"\r\n")):
    resp = exchange(chunked(payload), timeout=3)
    codes = status_codes(resp)
    if 201 in codes:
        die(f"{case}: created: {resp[:300]!r}")
    if codes and codes[0] not in (400, 413):
        die(f"{case}: answered {codes}: {resp[:300]!r}")
    healthy(case, before)
    print(f"{case}: {codes or 'closed'}", flush=True)

# -- bodies that are not JSON a server should take ----------------------------------
expect("non-UTF-8 JSON", exchange(post(b'{"apiVersion":"coordination.k8s.io/v1","kind":"Lease",'
                                       b'"metadata":{"name":"u","labels":{"a":"\xff\xfe\xc3"}}}')),
       (400, 422), before)
expect("overlong UTF-8 JSON", exchange(post(b'{"apiVersion":"coordination.k8s.io/v1","kind":"Lease",'
                                            b'"metadata":{"name":"\xc0\xaf"}}')), (400, 422), before)
expect("UTF-16 JSON", exchange(post((LEASE % ("w", "")).encode("utf-16"))), (400,), before)
expect("NUL in JSON string", exchange(post(LEASE % ("nul", ',"x":"a\\u0000b"'))), (400, 422), before)
depth = 200000
expect("depth bomb (arrays)", exchange(post("[" * depth + "]" * depth)), (400,), before)
expect("depth bomb (objects)", exchange(post('{"a":' * depth + "1" + "}" * depth)), (400,), before)
expect("depth bomb (in spec)",
       exchange(post(LEASE % ("deep", ',"spec":' + '{"a":' * 5000 + "1" + "}" * 5000))),
       (400, 422), before)
expect("depth bomb (merge patch)",
       exchange(post('{"a":' * 5000 + "1" + "}" * 5000, ctype="application/merge-patch+json")
                .replace(b"POST " + leases.encode(), b"PATCH " + leases.encode() + b"/keep", 1)),
       (400, 422), before)
expect("huge integer", exchange(post(LEASE % ("n1", ',"spec":{"leaseDurationSeconds":' + "9" * 100000 + "}"))),
       (400, 422), before)
expect("huge exponent", exchange(post(LEASE % ("n2", ',"spec":{"leaseDurationSeconds":1e999999}'))),
       (400, 422), before)
expect("huge negative", exchange(post(LEASE % ("n3", ',"spec":{"leaseTransitions":-' + "9" * 5000 + "}"))),
       (400, 422), before)

# -- request smuggling ---------------------------------------------------------------
# A request whose length is ambiguous must be refused (RFC 9112 6.3) and its
# connection closed, so nothing after its body is read as a second request. Every
# case runs and the failures are reported together.
smuggling = []
def smuggle(case, raw):
    global before
    resp = exchange(raw)
    codes = status_codes(resp)
    after = revision()
    names = sorted(set(after[1]) - set(before[1]))
    if 201 in codes or after != before or (codes and codes[0] not in (400, 501)):
        smuggling.append(f"{case}: answered {codes}, created {names}")
        before = after
    code, body = http("/readyz")
    if code != 200:
        die(f"{case}: /readyz answered {code}")
    print(f"{case}: {codes or 'closed'}{', created ' + str(names) if names else ''}", flush=True)
def lease_req(name, head=""):
    b = LEASE % (name, "")
    return (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{head}"
            f"Content-Length: {len(b)}\r\n\r\n{b}").encode()
for case, first_len, second_len in (("duplicate Content-Length", "f", "f+s"),
                                    ("duplicate Content-Length (reversed)", "f+s", "f"),
                                    ("list-valued Content-Length", "f", None)):
    name = case.split()[0]
    first, smuggled = (LEASE % ("first-" + name, "")).encode(), lease_req("smuggled-" + name)
    n = {"f": len(first), "f+s": len(first) + len(smuggled)}
    cl = (f"Content-Length: {n[first_len]}\r\nContent-Length: {n[second_len]}\r\n" if second_len
          else f"Content-Length: {n[first_len]}, {len(first) + len(smuggled)}\r\n")
    smuggle(case, (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"{cl}\r\n").encode() + first + smuggled)
# CL.TE: Content-Length and chunked both; the chunked body ends at once and what
# follows it would be a second request to a server that went by the chunks.
te_body = b"0\r\n\r\n" + lease_req("smuggled-clte")
smuggle("Content-Length with chunked",
        (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         f"Content-Length: {len(te_body)}\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + te_body)
te_body = b"0\r\n\r\n" + lease_req("smuggled-te")
smuggle("odd Transfer-Encoding",
        (f"POST {leases} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         f"Transfer-Encoding: identity, chunked\r\nTransfer-Encoding: gzip\r\n\r\n").encode() + te_body)

# -- the idle connection ---------------------------------------------------------------
if not quick:
    idle.join(100)
    data, secs = idle_result.get("data", "unfinished"), idle_result.get("secs", 0)
    if data is None or data == "unfinished":
        die(f"idle connection halfway through its headers was still open after {secs:.0f} s")
    if b" 200 " in (data or b"")[:20]:
        die(f"idle connection got an answer to a request it never finished: {data[:200]!r}")
    healthy("idle timeout", before)
    print(f"idle connection: closed after {secs:.0f} s", flush=True)
if smuggling:
    die("request smuggling (src/api/http.c takes what libmicrohttpd 0.9.75 accepts):\n  "
        + "\n  ".join(smuggling))
print("store unchanged at", before[0], flush=True)
EOF
echo ok
