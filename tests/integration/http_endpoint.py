#!/usr/bin/env python3
"""A small HTTP endpoint on 127.0.0.1 for the http_client sink's tests.

usage: http_endpoint.py OUT_FILE [--fail-every N] [--status CODE] [--retry-after S]

Listens on a free port and prints it on standard output (one line). Every
POST or PUT body is appended to OUT_FILE, one JSON line per request:
{"n": request number, "status": answered status, "headers": {...}, "body": text}.
Request number k (from 1) is answered CODE (503 unless given; with
Retry-After, when given) when k % N == 0; others get 200. Runs until
SIGTERM or SIGINT.
"""
import argparse
import http.server
import json
import signal
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--status", type=int, default=503)
    parser.add_argument("--retry-after", default="")
    args = parser.parse_args()
    lock = threading.Lock()
    counter = [0]
    out = open(args.out, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes

        def log_message(self, *_):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8", "replace")
            with lock:
                counter[0] += 1
                n = counter[0]
                status = args.status if args.fail_every and n % args.fail_every == 0 else 200
                out.write(json.dumps({"n": n, "status": status, "headers": dict(self.headers.items()),
                                      "body": body}) + "\n")
            self.send_response(status)
            if status != 200 and args.retry_after:
                self.send_header("Retry-After", args.retry_after)
            reply = b'{"ok": true}' if status == 200 else b'{"error": "try again"}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_PUT = do_POST

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    out.close()


if __name__ == "__main__":
    sys.exit(main())
