#!/usr/bin/env python3
"""A small HTTP/1.1 server for lib/http's tests. Prints "listening on HOST:PORT".

  GET  /bytes/N        N bytes: "0123456789" repeated
  GET  /status/CODE    that status, with body "status CODE"
  GET  /redirect       302 to /bytes/10
  GET  /headers        the request headers, as "name: value" lines
  GET  /stall          headers, 5 bytes, then nothing for 30 s
  PUT  /sha256         the sha256 hex and byte count of the body (chunked or sized)
  POST /sha256         the same
"""
import hashlib
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path
        if path.startswith("/bytes/"):
            n = int(path.split("/")[2])
            pattern = b"0123456789"
            body = (pattern * (n // 10 + 1))[:n]
            self.send_body(200, body, [("X-Test", "yes")])
        elif path.startswith("/status/"):
            code = int(path.split("/")[2])
            self.send_body(code, b"status %d" % code)
        elif path == "/redirect":
            self.send_body(302, b"", [("Location", "/bytes/10")])
        elif path == "/headers":
            text = "".join("%s: %s\n" % (k.lower(), v) for k, v in self.headers.items())
            self.send_body(200, text.encode())
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"01234")
            self.wfile.flush()
            time.sleep(30)
        else:
            self.send_body(404, b"no such path")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_PUT(self):
        body = self.read_body()
        self.send_body(201, ("%s %d" % (hashlib.sha256(body).hexdigest(), len(body))).encode())

    do_POST = do_PUT


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    listen = "127.0.0.1:0"
    for arg in sys.argv[1:]:
        if arg.startswith("--listen="):
            listen = arg.split("=", 1)[1]
    host, port = listen.rsplit(":", 1)
    server = Server((host, int(port)), Handler)
    print("listening on %s:%d" % server.server_address, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
