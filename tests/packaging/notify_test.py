#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""patd serve speaks systemd's notify protocol (Type=notify in
patd.service): with NOTIFY_SOCKET set, READY=1 once it accepts
connections, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at
SIGTERM. The socket here is a plain AF_UNIX datagram socket, which is
all systemd's end of it is.

    notify_test.py PATD
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

patd = sys.argv[1]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def messages(sock, want, deadline=10.0):
    """Datagrams until one contains want (or the deadline)."""
    got = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
        if want in got[-1]:
            break
    return got


with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "p.db")
    subprocess.run([patd, "init", "--db", db], capture_output=True,
                   check=True)
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    p = subprocess.Popen([patd, "serve", "--db", db, "--listen",
                          "127.0.0.1:%d" % port], env=env,
                         stderr=subprocess.DEVNULL)
    try:
        got = messages(sock, "READY=1")
        check(any("READY=1" in m for m in got), "READY=1 (got %r)" % got)
        check(any("STATUS=serving on http://127.0.0.1:%d" % port in m
                  for m in got), "STATUS names the address (got %r)" % got)
        # Ready means ready: the very next request is answered.
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                    timeout=5) as r:
            check(r.status == 200, "/healthz right after READY=1")
        p.send_signal(signal.SIGHUP)
        got = messages(sock, "READY=1")
        check(len(got) >= 2 and "RELOADING=1" in got[0]
              and "READY=1" in got[-1],
              "SIGHUP: RELOADING=1 then READY=1 (got %r)" % got)
        p.send_signal(signal.SIGTERM)
        got = messages(sock, "STOPPING=1")
        check(any("STOPPING=1" in m for m in got),
              "SIGTERM: STOPPING=1 (got %r)" % got)
        check(p.wait(timeout=15) == 0, "exit 0")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
