#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The revocation storm of bench/storm.sh: revokes the given token ids
# through the admin API at RATE per second for SECONDS, on one keep-alive
# connection, and prints how many it revoked and how many answers were
# not 204. Bounded by SECONDS and by the ids it is given.
import http.client
import sys
import time

port, admin, rate, secs, idfile = (sys.argv[1], sys.argv[2], float(sys.argv[3]),
                                   float(sys.argv[4]), sys.argv[5])
ids = [line.strip() for line in open(idfile) if line.strip()]
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
headers = {"Authorization": "Bearer " + admin}
start = time.monotonic()
done = bad = 0
while ids and time.monotonic() - start < secs:
    due = start + done / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    conn.request("DELETE", "/v1/tokens/" + ids.pop(), headers=headers)
    r = conn.getresponse()
    r.read()
    done += 1
    if r.status != 204:
        bad += 1
print(f"revoked {done} in {time.monotonic() - start:.1f} s, {bad} not 204")
