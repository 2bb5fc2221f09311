#!/usr/bin/python3
"""An HTTP proxy in front of an object store that fails now and then, for tests.

One request per connection (it answers "Connection: close"), so every request may be hit:
  --error-rate  the share of requests answered 500 or 503 without reaching the server
  --cut-rate    the share of GET responses cut off mid-body (the connection is dropped)
Everything else is passed through byte for byte (the Host header too, so SigV4 signatures
still hold). Prints "listening on 127.0.0.1:PORT" when ready; counts what it did on stderr.
"""
import argparse
import random
import socket
import sys
import threading

counts = {"requests": 0, "errors": 0, "cuts": 0}
lock = threading.Lock()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def handle(client, upstream, args, rng):
    try:
        head, rest = read_head(client)
        if head is None:
            return
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        length = 0
        kept = [lines[0]]
        for line in lines[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            if name == b"content-length":
                length = int(line.split(b":", 1)[1])
            if name in (b"connection", b"keep-alive"):
                continue
            kept.append(line)
        kept.append(b"Connection: close")
        body = rest
        while len(body) < length:
            chunk = client.recv(min(1 << 20, length - len(body)))
            if not chunk:
                return
            body += chunk
        with lock:
            counts["requests"] += 1
            fail = rng.random() < args.error_rate
            cut = method == b"GET" and rng.random() < args.cut_rate
            cut_after = rng.randint(0, 256 << 10)
            if fail:
                counts["errors"] += 1
        if fail:
            status = rng.choice([b"500 Internal Server Error", b"503 Service Unavailable"])
            client.sendall(b"HTTP/1.1 " + status +
                           b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        server = socket.create_connection(upstream)
        try:
            server.sendall(b"\r\n".join(kept) + b"\r\n\r\n" + body)
            sent = 0
            while True:
                chunk = server.recv(1 << 16)
                if not chunk:
                    break
                if cut and sent + len(chunk) > cut_after:
                    client.sendall(chunk[:max(0, cut_after - sent)])
                    with lock:
                        counts["cuts"] += 1
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                client.sendall(chunk)
                sent += len(chunk)
        finally:
            server.close()
    except OSError:
        pass
    finally:
        client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True, help="host:port of the object store")
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--cut-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    upstream = (host, int(port))
    rng = random.Random(args.seed)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client, upstream, args, rng), daemon=True).start()
        if counts["requests"] % 50 == 0:
            print("flaky_proxy: %s" % counts, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
