#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The load of bench/soak.sh, against a running patd: for SECONDS, threads
# doing verifications (cycling through the given tokens), token creation
# and revocation, sign-ins, leak reports of unknown tokens and bad
# requests, all on loopback; every INTERVAL seconds one line: requests
# by kind, answers by class, 5xx count and patd's RSS. Bounded by SECONDS.
import http.client, json, os, random, sys, threading, time

port, pid, admin, tokfile, secs, interval = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
    float(sys.argv[5]), float(sys.argv[6]))
tokens = [l.strip() for l in open(tokfile) if l.strip()]
end = time.monotonic() + secs
lock = threading.Lock()
counts = {}

def count(kind, status):
    with lock:
        counts[(kind, status // 100)] = counts.get((kind, status // 100), 0) + 1

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

def loop(kind, step):
    c = conn()
    while time.monotonic() < end:
        try:
            st = step(c)
        except Exception:
            c.close(); c = conn(); st = 0
        count(kind, st)

def req(c, method, path, body=None, headers=None):
    h = dict(headers or {})
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body, h)
    r = c.getresponse(); data = r.read()
    return r.status, data

def verify(c):
    return req(c, "GET", "/v1/auth", headers={"Authorization": "Bearer " + random.choice(tokens)})[0]

made = []
def create(c):
    n = random.randrange(1 << 30)
    st, data = req(c, "POST", "/v1/users/%s/tokens" % soak_user, json.dumps(
        {"name": "s%d" % n, "scopes": ["repo:read"], "expires_in_days": 1}),
        {"Authorization": "Bearer " + admin})
    if st == 201:
        with lock:
            made.append(json.loads(data)["id"])
    return st

def revoke(c):
    with lock:
        tid = made.pop(0) if made else None
    if tid is None:
        time.sleep(0.05); return 204
    return req(c, "DELETE", "/v1/tokens/" + tid, headers={"Authorization": "Bearer " + admin})[0]

def signin(c):
    st = req(c, "POST", "/v1/session", json.dumps({"username": "soak", "password": "a long enough password"}))[0]
    time.sleep(0.2)
    return st

def leak(c):
    st = req(c, "POST", "/v1/credentials/revoke", json.dumps({"credentials": ["pat_" + "x" * 38]}))[0]
    time.sleep(0.5)
    return st

def bad(c):
    return req(c, "POST", "/v1/me/tokens", "{not json", {"Authorization": "Bearer " + admin})[0]

c0 = conn()
st, data = req(c0, "GET", "/v1/users?q=soak", headers={"Authorization": "Bearer " + admin})
soak_user = [u["id"] for u in json.loads(data)["items"] if u["username"] == "soak"][0]
kinds = [("verify", verify, 4), ("create", create, 1), ("revoke", revoke, 1),
         ("signin", signin, 1), ("leak", leak, 1), ("bad", bad, 1)]
threads = [threading.Thread(target=loop, args=(k, f)) for k, f, n in kinds for _ in range(n)]
[t.start() for t in threads]
start = time.monotonic(); last = {}
print("| minute | verify/s | create/s | revoke/s | signin/s | leak/s | bad/s | 5xx | RSS MB |")
print("|---|---|---|---|---|---|---|---|---|")
while time.monotonic() < end:
    time.sleep(min(interval, max(0, end - time.monotonic())))
    with lock:
        snap = dict(counts)
    rate = {}
    for k, _, _ in kinds:
        tot = sum(v for (kk, _), v in snap.items() if kk == k)
        rate[k] = (tot - last.get(k, 0)) / interval
        last[k] = tot
    five = sum(v for (kk, cls), v in snap.items() if cls == 5)
    rss = 0
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    print("| %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %.1f |" % (
        (time.monotonic() - start) / 60, rate["verify"], rate["create"], rate["revoke"],
        rate["signin"], rate["leak"], rate["bad"], five, rss), flush=True)
[t.join() for t in threads]
