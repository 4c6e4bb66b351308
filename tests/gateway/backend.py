# SPDX-License-Identifier: MIT
"""The protected application behind the gateway in tests/gateway.

Answers every request with 200 and a JSON object: the method, the path and
the request headers exactly as received, as a list of [name, value] pairs
(so duplicates and odd spellings stay visible). Each request also appends
one line to HITS, so a test can tell that a refused request never got here.

usage: backend.py PORT HITS
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]})
        with open(sys.argv[2], "a") as hits:
            hits.write(self.command + " " + self.path + "\n")
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
