#!/usr/bin/env python3
"""The socket source and the syslog processor, against a running `weir run`.

usage: socket_syslog.py WEIR corpus|limit|backpressure|udp-drops|example

Each mode writes a pipeline that listens on 127.0.0.1 (port 0: the ports are
read from weir's log line "listening on tcp|udp HOST:PORT"), starts weir as a
subprocess (killed at the end whatever happens) and talks to it:

corpus     Every line of syslog_corpus.jsonl (RFC 5424 and RFC 3164, well
           formed and malformed) is sent three times: on a TCP connection one
           per line, on a TCP connection with octet counting (framing auto),
           and as UDP datagrams. Every well-formed line reaches the output
           three times with the expected attributes and the sender's address;
           every malformed one reaches the dead letter three times with its
           parse error and byte. A connection that breaks the octet-counting
           framing is closed; the source goes on, and lines sent after all of
           that still arrive. SIGTERM ends weir with exit 0 and balanced books.
limit      max_connections 3: three connections are held open, 20 more are
           closed by the source at once (the client reads the end of the
           stream); the refusals are logged once, not per connection, and
           counted in the log line at the stop. When a held connection closes,
           a new one is served.
backpressure  20,000 lines on one TCP connection into a pipeline whose consumer
           is slow and whose channel holds one message: the source stops
           reading while the pipeline is full, the sender is held back, and
           every line arrives exactly once, in order.
udp-drops  3,000 datagrams sent at once at a pipeline whose consumer is slow
           and whose receive buffer is small: the kernel drops what does not
           fit, and the report's `dropped` of the socket stage plus its
           `emitted` is exactly what was sent.
example    pipelines/syslog-to-http.yaml as it stands (addresses and the URL from
           its environment variables): the corpus over TCP and UDP, posted
           by http_client to a collector on 127.0.0.1 (Python's http.server);
           every well-formed line reaches the collector as a JSON object of
           its attributes, every malformed one the malformed file.

Prints the figures. Every wait is bounded.
"""
import contextlib
import json
import os
import re
import select
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import wait_for  # noqa: E402
LISTENING = re.compile(r"listening on (tcp|udp) 127\.0\.0\.1:(\d+)")
WAIT_S = 60


class Weir(harness.Weir):
    def __init__(self, weir: str, folder: str, yaml: str):
        super().__init__(weir, folder, "pipeline", yaml, log_level="debug")
        self.start()

    def ports(self, count: int) -> dict:
        def found():
            if self.process.poll() is not None:
                raise SystemExit(f"FAIL: weir exited with {self.process.returncode}\n{self.log_text()}")
            ports = {m.group(1): int(m.group(2)) for m in LISTENING.finditer(self.log_text())}
            return ports if len(ports) == count else None
        return wait_for("weir to listen", found, WAIT_S, context=self.log_text)

    def stop(self) -> tuple[int, dict]:
        return self.terminate(WAIT_S), self.read_report()


@contextlib.contextmanager
def running(weir: str, yaml: str):
    with tempfile.TemporaryDirectory(prefix="weir-socket-") as folder:
        w = Weir(weir, folder, yaml)
        try:
            yield w
        finally:
            w.kill()


def json_lines(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def check(condition: bool, what: str, weir: Weir = None):
    if not condition:
        raise SystemExit(f"FAIL: {what}" + (f"\n{weir.log_text()[-3000:]}" if weir else ""))


def tcp_send(port: int, data: bytes):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            s.recv(1)  # the source closes its side once it has read everything (or broken off)


def udp_send(port: int, datagrams: list):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            s.sendto(d, ("127.0.0.1", port))


def octet_counted(lines: list) -> bytes:
    return b"".join(str(len(line)).encode() + b" " + line for line in lines)


def books_balance(report: dict) -> bool:
    return report.get("balanced") is True


CORPUS_PIPELINE = """
pipeline: syslog-corpus
defaults: {drain_timeout: 20s}
stages:
  tcp:
    plugin: socket
    config: {address: '127.0.0.1:0', framing: auto, max_connections: 8}
  udp:
    plugin: socket
    config: {address: '127.0.0.1:0', protocol: udp, receive_buffer: 1MiB}
  parsed:
    plugin: syslog
    input: [tcp, udp]
    on_error: {dead_letter: malformed}
  out:
    plugin: file
    input: parsed
    config: {path: parsed.jsonl, format: json, flush: message}
  malformed:
    plugin: file
    config: {path: malformed.jsonl, format: json, flush: message}
"""


def corpus(weir_binary: str):
    good, bad = load_corpus()
    lines = [c["line"].encode("utf-8") for c in good + bad]
    with running(weir_binary, CORPUS_PIPELINE) as w:
        ports = w.ports(2)
        tcp_send(ports["tcp"], b"\n".join(lines) + b"\n")
        tcp_send(ports["tcp"], octet_counted(lines))
        udp_send(ports["udp"], lines)
        # Breaks the framing after one good frame: that connection is closed.
        tcp_send(ports["tcp"], octet_counted([lines[0]]) + b"garbage that is not a frame")
        parsed_path = os.path.join(w.folder, "parsed.jsonl")
        malformed_path = os.path.join(w.folder, "malformed.jsonl")
        expected_parsed, expected_malformed = 3 * len(good) + 1, 3 * len(bad)
        wait_for(f"{expected_parsed} parsed and {expected_malformed} dead letters",
                 lambda: len(json_lines(parsed_path)) >= expected_parsed and
                 len(json_lines(malformed_path)) >= expected_malformed, WAIT_S, context=w.log_text)
        # The source did not stop: more lines, on a new connection and by UDP.
        after = b"<13>1 2024-01-01T00:00:00Z host app - - - still listening"
        tcp_send(ports["tcp"], after + b"\n")
        udp_send(ports["udp"], [after])
        wait_for("the lines sent afterwards", lambda: len(json_lines(parsed_path)) >= expected_parsed + 2,
                 WAIT_S, context=w.log_text)
        code, report = w.stop()
        parsed, malformed = json_lines(parsed_path), json_lines(malformed_path)
        log = w.log_text()

    check(code == 0, f"weir exited with {code}")
    check(books_balance(report), f"the books do not balance: {json.dumps(report)[:2000]}")
    check(len(parsed) == expected_parsed + 2, f"{len(parsed)} parsed, expected {expected_parsed + 2}")
    check(len(malformed) == expected_malformed, f"{len(malformed)} dead letters, expected {expected_malformed}")
    check("garbage" not in "".join(m["payload"] for m in parsed + malformed), "the broken framing's bytes went on")
    check(re.search(r"closing the connection from 127\.0\.0\.1:\d+: expected the length of a frame", log) is not None,
          "the broken framing was not logged")
    for c in good:
        copies = [m for m in parsed if m["payload"] == c["line"]]
        expected_copies = 4 if c is good[0] else 3
        check(len(copies) == expected_copies, f"{len(copies)} copies of {c['line']!r}, expected {expected_copies}")
        for m in copies:
            attributes = m["attributes"]
            for name, value in c["attributes"].items():
                check(attributes.get(name) == value,
                      f"{c['line']!r}: attribute {name} is {attributes.get(name)!r}, expected {value!r}")
            for name in c["absent"]:
                check(name not in attributes, f"{c['line']!r}: attribute {name} should be absent")
            check(re.fullmatch(r"127\.0\.0\.1:\d+", attributes.get("peer", "")) is not None,
                  f"{c['line']!r}: peer is {attributes.get('peer')!r}")
    for c in bad:
        copies = [m for m in malformed if m["payload"] == c["line"]]
        check(len(copies) == 3, f"{len(copies)} dead letters of {c['line']!r}, expected 3")
        for m in copies:
            a = m["attributes"]
            check(c["error"] in a.get("error", ""), f"{c['line']!r}: error {a.get('error')!r}, expected {c['error']!r}")
            check(a.get("stage") == "parsed", f"{c['line']!r}: dead-lettered by {a.get('stage')!r}")
    stages = report["stages"]
    print(f"corpus: {len(good)} well-formed and {len(bad)} malformed lines, each over TCP lines, TCP octet counting "
          f"and UDP: parsed {len(parsed)}, dead-lettered {len(malformed)}; sources emitted "
          f"tcp={stages['tcp']['emitted']} udp={stages['udp']['emitted']} (udp dropped {stages['udp']['dropped']}); "
          f"books balanced")


def socket_pipeline(name: str, drain_timeout: str, source: str, socket_config: str, stages: str) -> str:
    """A pipeline whose one socket source, `source` (its config in YAML flow
    style), feeds `stages` (YAML, indented as stages are)."""
    return f"""
pipeline: {name}
defaults: {{drain_timeout: {drain_timeout}}}
stages:
  {source}:
    plugin: socket
    config: {socket_config}
""" + stages


def slow_stage(source: str, duration: str) -> str:
    """A stage `slow` behind a channel of 1 that spends `duration` on each message."""
    return f"""  slow:
    plugin: simulate_work
    input: {source}
    capacity: 1
    config: {{durations: {{}}, default_duration: {duration}}}
"""


LIMIT_PIPELINE = socket_pipeline("socket-limit", "20s", "tcp", "{address: '127.0.0.1:0', max_connections: 3}", """\
  out:
    plugin: file
    input: tcp
    config: {path: out.txt, flush: message}
""")


def closed_at_once(port: int) -> bool:
    """Connects; True when the server closes the connection without reading."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def limit(weir_binary: str):
    with running(weir_binary, LIMIT_PIPELINE) as w:
        port = w.ports(1)["tcp"]
        out_path = os.path.join(w.folder, "out.txt")

        def lines():
            with contextlib.suppress(FileNotFoundError), open(out_path) as f:
                return f.read().splitlines()
            return []

        held = []
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(f"held {i}\n".encode())
            held.append(s)
        wait_for("the three held connections' lines", lambda: len(lines()) == 3, WAIT_S, context=w.log_text)
        refused = 0
        started = time.monotonic()
        for _ in range(20):
            check(closed_at_once(port), "a connection over max_connections was not closed", w)
            refused += 1
        # Rate-limited: the first is logged, then at most one line per 10 s.
        allowed = 1 + int((time.monotonic() - started) / 10)
        refusal_lines = len(re.findall(r"refused a connection from", w.log_text()))
        check(1 <= refusal_lines <= allowed, f"{refusal_lines} log lines for {refused} refusals, expected 1", w)
        held.pop().close()
        # The source sees the close when it reads it; until then a new
        # connection may still be refused (and counted). Each attempt ends
        # when its line is written or the source closes it.
        served = None
        for attempt in range(100):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            line = f"after a close {attempt}"
            s.sendall(line.encode() + b"\n")

            def outcome():
                if line in lines():
                    return "served"
                if select.select([s], [], [], 0)[0]:
                    with contextlib.suppress(ConnectionResetError):
                        if s.recv(1) != b"":
                            return None
                    return "refused"
                return None
            if wait_for(f"'{line}' to be written or refused", outcome, WAIT_S, context=w.log_text) == "served":
                held.append(s)
                served = line
                break
            refused += 1
            s.close()
        check(served is not None, "no connection was served after one closed", w)
        for s in held:
            s.close()
        code, report = w.stop()
        log = w.log_text()
        out = lines()
    check(code == 0, f"weir exited with {code}")
    check(books_balance(report), "the books do not balance")
    check(sorted(out) == [served, "held 0", "held 1", "held 2"], f"output {out}")
    m = re.search(r"(\d+) connections were refused over max_connections 3", log)
    check(m is not None and int(m.group(1)) == refused,
          f"the stop's count of refusals is {m.group(1) if m else None}, the clients saw {refused}")
    print(f"limit: max_connections 3, {refused} connections refused and closed at once, logged in 1 line; "
          f"served again after a close; books balanced")


BACKPRESSURE_PIPELINE = socket_pipeline("socket-backpressure", "60s", "tcp", "{address: '127.0.0.1:0'}",
                                        slow_stage("tcp", "100us") + """\
  out:
    plugin: file
    input: slow
    config: {path: out.txt}
""")


def backpressure(weir_binary: str):
    sent = 20_000
    with running(weir_binary, BACKPRESSURE_PIPELINE) as w:
        port = w.ports(1)["tcp"]
        tcp_send(port, b"".join(f"line {i:05d} {'x' * 100}\n".encode() for i in range(sent)))
        out_path = os.path.join(w.folder, "out.txt")
        wait_for(f"{sent} lines", lambda: os.path.exists(out_path) and open(out_path, "rb").read().count(b"\n") == sent,
                 WAIT_S, context=w.log_text)
        code, report = w.stop()
        with open(out_path) as f:
            out = f.read().splitlines()
    check(code == 0, f"weir exited with {code}")
    check(books_balance(report), "the books do not balance")
    expected = [f"line {i:05d} {'x' * 100}" for i in range(sent)]
    check(out == expected, f"{len(out)} lines, {len(set(out))} distinct; expected the {sent} lines sent, in order")
    tcp = report["stages"]["tcp"]
    print(f"backpressure: {sent} lines over one TCP connection through a channel of 1 and a slow stage: all "
          f"{len(out)} arrived once, in order; the source waited on the full channel {tcp['blocked_ms']:.0f} ms")


DROPS_PIPELINE = socket_pipeline("socket-udp-drops", "60s", "udp",
                                 "{address: '127.0.0.1:0', protocol: udp, receive_buffer: 4KiB}",
                                 slow_stage("udp", "2ms") + """\
  out:
    plugin: count
    input: slow
""")


def udp_drops(weir_binary: str):
    sent = 3000
    with running(weir_binary, DROPS_PIPELINE) as w:
        port = w.ports(1)["udp"]
        udp_send(port, [f"datagram {i}".encode() for i in range(sent)])
        code, report = w.stop()
    check(code == 0, f"weir exited with {code}")
    check(books_balance(report), "the books do not balance")
    udp = report["stages"]["udp"]
    out = report["stages"]["out"]
    check(udp["emitted"] + udp["dropped"] == sent,
          f"emitted {udp['emitted']} + dropped {udp['dropped']} != sent {sent}")
    check(udp["dropped"] > 0, "nothing was dropped: the test did not overflow the receive buffer")
    check(out["received"] == udp["emitted"], f"the sink received {out['received']} of {udp['emitted']}")
    print(f"udp-drops: sent {sent} datagrams, emitted {udp['emitted']}, dropped {udp['dropped']} "
          f"(counted in the report), sink received {out['received']}")


class Collector(BaseHTTPRequestHandler):
    """Keeps the ndjson lines POSTed to it."""
    lines: list = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Collector.lock:
            Collector.lines.extend(json.loads(line) for line in body.decode("utf-8").splitlines() if line)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def load_corpus():
    with open(os.path.join(HERE, "syslog_corpus.jsonl"), encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    return [c for c in cases if "attributes" in c], [c for c in cases if "error" in c]


def example(weir_binary: str):
    good, bad = load_corpus()
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    serving = threading.Thread(target=collector.serve_forever, daemon=True)
    serving.start()
    os.environ.update(SYSLOG_TCP="127.0.0.1:0", SYSLOG_UDP="127.0.0.1:0",
                      HTTP_URL=f"http://127.0.0.1:{collector.server_address[1]}/logs")
    with open(os.path.join(HERE, "..", "..", "pipelines", "syslog-to-http.yaml")) as f:
        yaml = f.read()
    try:
        with running(weir_binary, yaml) as w:
            ports = w.ports(2)
            lines = [c["line"].encode("utf-8") for c in good + bad]
            tcp_send(ports["tcp"], b"\n".join(lines) + b"\n")
            udp_send(ports["udp"], lines)
            malformed_path = os.path.join(w.folder, "out", "syslog-malformed.jsonl")

            def arrived():
                with Collector.lock:
                    return len(Collector.lines) >= 2 * len(good)
            wait_for(f"{2 * len(good)} lines at the collector", arrived, WAIT_S, context=w.log_text)
            code, report = w.stop()
            malformed = json_lines(malformed_path)
            undelivered = json_lines(os.path.join(w.folder, "out", "syslog-undelivered.jsonl"))
    finally:
        collector.shutdown()
        collector.server_close()
    posted = Collector.lines
    check(code == 0, f"weir exited with {code}")
    check(books_balance(report), "the books do not balance")
    check(len(posted) == 2 * len(good), f"{len(posted)} lines posted, expected {2 * len(good)}")
    check(not undelivered, f"{len(undelivered)} undelivered")
    for c in good:
        copies = [p for p in posted if p.get("line") == c["line"]]
        check(len(copies) == 2, f"{len(copies)} posted copies of {c['line']!r}, expected 2")
        for p in copies:
            for name, value in c["attributes"].items():
                check(p.get(name) == value, f"{c['line']!r}: posted {name} is {p.get(name)!r}, expected {value!r}")
    check(len(malformed) == 2 * len(bad), f"{len(malformed)} malformed, expected {2 * len(bad)}")
    for c in bad:
        copies = [m for m in malformed if m["payload"] == c["line"]]
        check(len(copies) == 2 and all(c["error"] in m["attributes"]["error"] for m in copies),
              f"{c['line']!r}: {len(copies)} copies in the malformed file, expected 2 with {c['error']!r}")
    print(f"example: pipelines/syslog-to-http.yaml posted {len(posted)} parsed lines to the collector and kept "
          f"{len(malformed)} malformed ones; collector stage emitted {report['stages']['collector']['emitted']}; "
          f"books balanced")


def main():
    modes = {"corpus": corpus, "limit": limit, "backpressure": backpressure, "udp-drops": udp_drops,
             "example": example}
    if len(sys.argv) != 3 or sys.argv[2] not in modes:
        raise SystemExit(__doc__)
    modes[sys.argv[2]](os.path.abspath(sys.argv[1]))


if __name__ == "__main__":
    main()
