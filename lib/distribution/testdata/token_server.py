#!/usr/bin/python3
"""A token issuer for docker-registry's token auth, for tests (loopback only).

Usage: token_server.py KEY.pem CERT.pem SERVICE ISSUER USER:PASSWORD [EXPIRES_IN]

GET /token?service=S&scope=repository:NAME:pull,push... answers {"token": JWT} signed RS256
with the certificate in the x5c header (the registry trusts it as its rootcertbundle).
Anonymous requests are granted "pull" only; USER:PASSWORD gets every action asked for; wrong
credentials get 401. Each request is logged to stdout as "token scope=... user=..."; the
first line is "listening on 127.0.0.1:PORT".
"""

import base64
import http.server
import json
import sys
import time
import urllib.parse
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

KEY_PATH, CERT_PATH, SERVICE, ISSUER, CREDENTIALS = sys.argv[1:6]
EXPIRES_IN = int(sys.argv[6]) if len(sys.argv) > 6 else 300
with open(KEY_PATH, "rb") as f:
    KEY = f.read()
with open(CERT_PATH, "rb") as f:
    CERT_DER = x509.load_pem_x509_certificate(f.read()).public_bytes(Encoding.DER)
X5C = [base64.b64encode(CERT_DER).decode()]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        query = urllib.parse.parse_qs(url.query)
        user = ""
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            given = base64.b64decode(header[6:]).decode()
            if given != CREDENTIALS:
                print("token refused", flush=True)
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"details":"incorrect username or password"}')
                return
            user = given.split(":", 1)[0]
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                kind, name, actions = one.split(":")
                wanted = actions.split(",")
                granted = wanted if user else [a for a in wanted if a == "pull"]
                access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user, "aud": query.get("service", [SERVICE])[0],
                  "exp": now + EXPIRES_IN, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        token = jwt.encode(claims, KEY, algorithm="RS256", headers={"x5c": X5C})
        print("token scope=%s user=%s" % (",".join(query.get("scope", [])), user), flush=True)
        body = json.dumps({"token": token, "access_token": token, "expires_in": EXPIRES_IN,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
