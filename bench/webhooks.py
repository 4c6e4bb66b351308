#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Webhook benchmarks (docs/webhooks.md); results go to bench/RESULTS.md.

  bench/webhooks.py BUILD_DIR [EVENTS] [ENDPOINTS] [SECONDS]

1. Delivery: ENDPOINTS endpoints (default 4) on a local receiver (a
   Python http.server in a process of its own; signatures are checked by
   tests/integration/test_webhooks.py, not here),
   EVENTS feed rows (default 500 token renames) written while the
   endpoints are disabled; then they are enabled and the time until every
   endpoint has every row is measured: deliveries a second, with one node
   and with two nodes on the same store.
2. Creation: POST /v1/me/tokens from 4 client threads for SECONDS
   (default 5) with no endpoint, then with ENDPOINTS endpoints receiving
   token.created (the sender busy beside the requests), twice each,
   alternating. Target: with endpoints at least 0.9x the rate without.

The store is an SQLite file, or PATD_TEST_STORE (tests/unit/with_pg.sh
bench/webhooks.py ... runs it on a throwaway PostgreSQL).
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
import test_webhooks as tw  # noqa: E402


class Sink:
    """The receiver, in a process of its own (so that it does not share
    the client threads' interpreter lock): answers 200 to every POST and
    GET /count?PATH with how many POSTs PATH got."""

    def __init__(self):
        self.p = subprocess.Popen([sys.executable, __file__, "--sink"],
                                  stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())
        self.secrets = {}

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def count(self, path):
        import urllib.request
        with urllib.request.urlopen(self.url("/count?" + path)) as r:
            return int(r.read())

    def stop(self):
        self.p.kill()
        self.p.wait()


def sink_main():
    counts = {}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: without this, Nagle and
        # delayed ACKs hold each answer 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", "0")))
            counts[self.path] = counts.get(self.path, 0) + 1
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):
            body = str(counts.get(self.path.split("?", 1)[1], 0)).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a sender closing its connection is not news
    srv = S(("127.0.0.1", 0), H)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


def drain(nodes, tok, rcv, events, nend, tag):
    base = nodes[0].base
    hooks = []
    for i in range(nend):
        path = "/%s-%d" % (tag, i)
        w = tw.create(base, tok, rcv, path, ["token.renamed"])
        tw.api(base, tok, "PATCH", "/v1/webhooks/" + w["id"],
               {"enabled": False})
        hooks.append((w, path))
    t = tw.make_token(base, tok, "bench-" + tag)
    for i in range(events):
        tw.api(base, tok, "PATCH", "/v1/me/tokens/" + t["id"],
               {"name": "%s-%d" % (tag, i)})
    start = time.time()
    for w, _ in hooks:
        tw.api(base, tok, "PATCH", "/v1/webhooks/" + w["id"],
               {"enabled": True})
    ok = tw.wait_for(lambda: all(rcv.count(p) >= events
                                 for _, p in hooks), 120, 0.02)
    took = time.time() - start
    total = sum(rcv.count(p) for _, p in hooks)
    bad = 0
    for w, _ in hooks:
        tw.api(base, tok, "DELETE", "/v1/webhooks/" + w["id"])
    return total / took, ok, bad


def create_rate(base, tok, seconds, threads=4):
    stop = time.time() + seconds
    counts = [0] * threads

    def run(k):
        i = 0
        while time.time() < stop:
            st, _ = tw.api(base, tok, "POST", "/v1/me/tokens",
                           {"name": "c-%d-%d-%f" % (k, i, time.time()),
                            "scopes": ["patd:self"]})
            if st == 201:
                counts[k] += 1
            i += 1
    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / seconds


def main():
    build = sys.argv[1]
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    nend = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5
    patd = os.path.join(build, "patd")
    tmp = tempfile.mkdtemp(prefix="patd-bench-wh.")
    store = os.environ.get("PATD_TEST_STORE") or os.path.join(tmp, "p.db")
    tok = subprocess.run([patd, "init", "--db", store], capture_output=True,
                         text=True, check=True).stdout.strip()
    env = {"PATD_WEBHOOKS_POLL_MS": "50", "PATD_LOG_ACCESS": "off",
           "PATD_AUTH_MAX_FAILURES_PER_IP": "1000000"}
    rcv = Sink()
    nodes = [tw.Node(patd, store, tmp, "b0", env)]
    base = nodes[0].base
    st, pol = tw.api(base, tok, "GET", "/v1/policy")
    pol["max_tokens_per_user"] = 1000000
    tw.api(base, tok, "PUT", "/v1/policy", pol)
    rows = []
    try:
        r1, ok1, bad1 = drain(nodes, tok, rcv, events, nend, "one")
        nodes.append(tw.Node(patd, store, tmp, "b1", env))
        r2, ok2, bad2 = drain(nodes, tok, rcv, events, nend, "two")
        print("delivery: %d events x %d endpoints" % (events, nend))
        print("  one node : %.0f deliveries/s%s" %
              (r1, "" if ok1 and not bad1 else " (INCOMPLETE or bad sig)"))
        print("  two nodes: %.0f deliveries/s%s (%.2fx)" %
              (r2, "" if ok2 and not bad2 else " (INCOMPLETE or bad sig)",
               r2 / r1))
        nodes[1].stop()
        nodes.pop()
        for rnd in range(2):
            rows.append(("none", create_rate(base, tok, seconds)))
            hooks = [tw.create(base, tok, rcv, "/c%d-%d" % (rnd, i),
                               ["token.created"]) for i in range(nend)]
            rows.append(("%d endpoints" % nend,
                         create_rate(base, tok, seconds)))
            for w in hooks:
                tw.api(base, tok, "DELETE", "/v1/webhooks/" + w["id"])
        print("creations/s (4 client threads, %g s each):" % seconds)
        for name, r in rows:
            print("  %-12s %.1f" % (name, r))
        without = sum(r for n, r in rows if n == "none") / 2
        with_ = sum(r for n, r in rows if n != "none") / 2
        print("  ratio with/without endpoints: %.2f" % (with_ / without))
    finally:
        for n in nodes:
            n.stop()
        rcv.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["--sink"]:
        sink_main()
    else:
        main()
