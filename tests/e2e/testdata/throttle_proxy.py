#!/usr/bin/python3
"""An HTTP proxy in front of a registry for tests: forwards every request to UPSTREAM,
sends response bodies at most RATE bytes a second, and logs "METHOD PATH RANGE" per request.

usage: throttle_proxy.py UPSTREAM_HOST:PORT RATE LOG_FILE (prints "listening on ADDR")
"""
import http.client
import http.server
import socketserver
import sys
import time

UPSTREAM, RATE, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        with open(LOG, "a") as log:
            log.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-")))
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream = http.client.HTTPConnection(UPSTREAM, timeout=60)
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP:
                self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            start, sent = time.monotonic(), 0
            while True:
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                self.wfile.write(chunk)
                sent += len(chunk)
                ahead = sent / RATE - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Proxy)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
