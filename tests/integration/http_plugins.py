#!/usr/bin/env python3
"""The http_server source and the http_client sink, end to end on 127.0.0.1.

usage: http_plugins.py WEIR ingest|slow|limits|ackfail|client|refused|tls
       http_plugins.py WEIR kafka KAFKA_MOCK_CLUSTER

ingest   100,000 lines POSTed by 8 concurrent clients (keep-alive, 250 lines a
         request) through http_server (acknowledgements on) into a file:
         every line is in the file exactly once, every request was answered
         200, and after SIGTERM the books balance with no pending ack.
slow     The same with a sink held to 2,000 messages/s (throttle), a small
         intake and a short busy_timeout: clients are answered 503 with
         Retry-After and send the request again; in the end every line is in
         the file exactly once (a 503 for a full pipeline means nothing of
         the request entered).
limits   An oversized body gets 413, a malformed ndjson line 400 naming the
         line, a path not in `paths` 404, a connection beyond max_connections
         429; health and readiness answer 200; SIGTERM with idle keep-alive
         connections open ends the run with exit 0.
ackfail  With acknowledgements, a request with a message that a stage fails
         (no dead-letter stage) is answered 500 naming the failure; one
         whose messages are all written, 200.
client   http_client posts 5,000 messages to a Python endpoint that answers
         every 5th request 503: every message arrives at least once, no
         message failed, the books balance.
refused  An endpoint that answers every request 400: http_client does not
         retry it; each message goes to the stage's dead-letter stage with
         the status in its error.
tls      Two weir processes over HTTPS: generate → http_client (tls_ca) →
         http_server (tls_cert, tls_key) → file, with a certificate made by
         the openssl command for 127.0.0.1: all 2,000 messages arrive; a
         stop with an idle TLS connection open ends with exit 0.

kafka    pipelines/http-to-kafka.yaml as it stands, against librdkafka's mock
         cluster: 4 clients POST 4,000 events; every request is answered 200
         only once stored; a second weir reads the topic back: every event
         is there.

Prints the figures. Every wait is bounded; every process started is killed
at the end, whatever happens.
"""
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

RUN_LIMIT_S = 180
LISTENING = re.compile(r"listening on https?://[^:]+:(\d+)")
STARTED = []


def started_logs():
    """The tail of every started run's log: what a failure shows."""
    text = ""
    for process in STARTED:
        if getattr(process, "log_path", None) and os.path.exists(process.log_path):
            with open(process.log_path) as f:
                text += f"--- {process.log_path}\n{f.read()[-4000:]}\n"
    return text


def fail(message):
    sys.stderr.write(started_logs())
    raise SystemExit(f"FAIL: {message}")


class Weir(harness.Weir):
    def __init__(self, weir, folder, name, yaml):
        super().__init__(weir, folder, name, yaml)
        STARTED.append(self)

    def port(self):
        def found():
            if self.process.poll() is not None:
                fail(f"{self.name} exited with {self.process.returncode} before listening")
            match = LISTENING.search(self.log_text())
            return int(match.group(1)) if match else None
        return wait_for(f"{self.name} to listen", found, 30, context=started_logs)

    def stop(self, limit_s=60):
        """SIGTERM, then the exit code and the report."""
        return self.terminate(limit_s), self.read_report()

    def wait(self, limit_s=RUN_LIMIT_S):
        return self.exit_code(limit_s), self.read_report()


def check_books(report, name):
    if report["status"] != "drained":
        fail(f"{name}: status {report['status']}, not drained")
    if not report.get("balanced", False):
        fail(f"{name}: the books do not balance")
    for stage, books in report["stages"].items():
        if books.get("pending_acks", 0) != 0:
            fail(f"{name}: stage {stage} has {books['pending_acks']} pending acknowledgements")


def post(connection, path, body, headers=None):
    connection.request("POST", path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read().decode()


def send_lines(port, client, lines, per_request, path, counts):
    """One client: keep-alive POSTs of `per_request` lines, each sent again on a 503 until it is taken."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for first in range(0, len(lines), per_request):
            body = "\n".join(lines[first:first + per_request]) + "\n"
            for attempt in range(1000):
                status, headers, text = post(connection, path, body)
                if status == 200:
                    counts["ok"] += 1
                    break
                if status != 503:
                    counts["errors"].append(f"client {client}: {status} {text}")
                    return
                if "Retry-After" not in headers:
                    counts["errors"].append(f"client {client}: a 503 without Retry-After")
                counts["busy"] += 1
                time.sleep(0.02)  # quicker than Retry-After (1 s): the test wants many tries
            else:
                counts["errors"].append(f"client {client}: a request refused 1000 times")
                return
    finally:
        connection.close()


def post_from_clients(port, lines_of_client, clients, per_request, path):
    """Each client in its own thread; their counts once all finished (every error fails the test)."""
    counts = {"ok": 0, "busy": 0, "errors": []}
    threads = []
    for c in range(clients):
        thread = threading.Thread(target=send_lines, args=(port, c, lines_of_client(c), per_request, path, counts))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=RUN_LIMIT_S)
        if thread.is_alive():
            fail("a client did not finish in time")
    if counts["errors"]:
        fail("; ".join(counts["errors"][:5]))
    return counts


def ingest(weir, folder, lines_total, clients, per_request, extra_stages, source_config):
    out = os.path.join(folder, "out.txt")
    yaml = f"""pipeline: http-ingest
defaults: {{capacity: 256, drain_timeout: 30s}}
stages:
  ingest:
    plugin: http_server
    config: {{address: '127.0.0.1:0', paths: [/in], {source_config}}}
{extra_stages}
  archive:
    plugin: file
    input: {'paced' if extra_stages else 'ingest'}
    config: {{path: {out}}}
"""
    run = Weir(weir, folder, "ingest", yaml).start()
    port = run.port()
    per_client = lines_total // clients
    started = time.monotonic()
    counts = post_from_clients(port, lambda c: [f"c{c}-{i:06d}" for i in range(per_client)], clients, per_request,
                               "/in")
    elapsed = time.monotonic() - started
    code, report = run.stop()
    if code != 0:
        fail(f"weir exited with {code} after SIGTERM")
    check_books(report, "ingest")
    with open(out) as f:
        written = f.read().splitlines()
    seen = {}
    for line in written:
        seen[line] = seen.get(line, 0) + 1
    expected = {f"c{c}-{i:06d}" for c in range(clients) for i in range(per_client)}
    missing = expected - seen.keys()
    doubled = [line for line, n in seen.items() if n > 1]
    extra = seen.keys() - expected
    source = report["stages"]["ingest"]
    print(f"lines {len(expected)}, written {len(written)}, missing {len(missing)}, duplicated {len(doubled)}, "
          f"requests answered 200: {counts['ok']}, answered 503 and sent again: {counts['busy']}, "
          f"source acked {source.get('acked')}, nacked {source.get('nacked')}, {elapsed:.1f} s; "
          f"SIGTERM to exit {run.stopped_in:.2f} s")
    if missing or doubled or extra:
        fail(f"{len(missing)} missing (e.g. {sorted(missing)[:3]}), {len(doubled)} duplicated, {len(extra)} unexpected")
    if source.get("acked") != len(expected):
        fail(f"the source acked {source.get('acked')} messages, not {len(expected)}")
    return counts


def mode_ingest(weir, folder):
    ingest(weir, folder, 100_000, 8, 250, "", "format: lines")


def mode_slow(weir, folder):
    paced = """  paced:
    plugin: throttle
    input: ingest
    capacity: 64
    config: {rate: 2000, burst: 50}
"""
    counts = ingest(weir, folder, 10_000, 8, 100, paced, "max_queued: 200, busy_timeout: 100ms")
    if counts["busy"] == 0:
        fail("no client was answered 503: the pipeline never pushed back")


def mode_limits(weir, folder):
    yaml = f"""pipeline: http-limits
stages:
  ingest:
    plugin: http_server
    config: {{address: '127.0.0.1:0', format: ndjson, paths: [/in], max_body_size: 1KiB, max_connections: 2,
              keep_alive_timeout: 3s}}
  archive:
    plugin: file
    input: ingest
    config: {{path: {os.path.join(folder, 'out.txt')}}}
"""
    run = Weir(weir, folder, "limits", yaml).start()
    port = run.port()
    results = {}
    first = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    second = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    third = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        results["413"] = post(first, "/in", '{"a": "' + "x" * 2048 + '"}\n')
        first.close()
        first = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results["400"] = post(first, "/in", '{"a": 1}\n{"b": \n')
        results["404"] = post(first, "/elsewhere", '{"a": 1}\n')
        results["200"] = post(first, "/in", '{"a": 1}\n{"b": 2}\n')
        first.request("GET", "/health")
        response = first.getresponse()
        results["health"] = (response.status, {}, response.read().decode())
        results["ready"] = post(second, "/in", "")  # opens the second connection (0 messages: 200)
        second.request("GET", "/ready")
        response = second.getresponse()
        results["ready"] = (response.status, {}, response.read().decode())
        # Both connections are open (keep-alive): a third is one too many.
        results["429"] = post(third, "/in", '{"c": 3}\n')
    finally:
        for connection in (first, second, third):
            connection.close()
    for key, (status, headers, text) in results.items():
        print(f"{key}: {status} {text}")
    expect = {"413": 413, "400": 400, "404": 404, "200": 200, "health": 200, "ready": 200, "429": 429}
    for key, status in expect.items():
        if results[key][0] != status:
            fail(f"{key}: answered {results[key][0]} {results[key][2]}, expected {status}")
    if "max_body_size" not in results["413"][2]:
        fail("the 413 does not name max_body_size")
    if "line 2" not in results["400"][2]:
        fail("the 400 does not name line 2")
    if "/in" not in results["404"][2]:
        fail("the 404 does not name the paths that take POSTs")
    if "Retry-After" not in results["429"][1] or "max_connections" not in results["429"][2]:
        fail("the 429 lacks Retry-After or does not name max_connections")
    # Two idle keep-alive connections are open while it stops.
    idle = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(2)]
    for connection in idle:
        post(connection, "/in", "")
    code, report = run.stop()
    for connection in idle:
        connection.close()
    print(f"SIGTERM with 2 idle keep-alive connections to exit: {run.stopped_in:.2f} s")
    if code != 0:
        fail(f"weir exited with {code}")
    check_books(report, "limits")
    if report["stages"]["archive"]["received"] != 2:
        fail(f"the file got {report['stages']['archive']['received']} messages, expected 2")


def mode_ackfail(weir, folder):
    yaml = f"""pipeline: http-ackfail
stages:
  ingest:
    plugin: http_server
    config: {{address: '127.0.0.1:0'}}
  reject:
    plugin: fail
    input: ingest
    when: 'payload contains "bad"'
    config: {{share: 1}}
  archive:
    plugin: file
    input: [reject, ingest.unmatched]
    config: {{path: {os.path.join(folder, 'out.txt')}}}
"""
    run = Weir(weir, folder, "ackfail", yaml).start()
    port = run.port()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        good = post(connection, "/", "good-1\ngood-2\n")
        bad = post(connection, "/", "good-3\nbad-1\n")
    finally:
        connection.close()
    print(f"all written: {good[0]} {good[2]}; one failed: {bad[0]} {bad[2]}")
    if good[0] != 200:
        fail(f"a request whose messages were all written was answered {good[0]}")
    if bad[0] != 500 or "failed" not in bad[2]:
        fail(f"a request with a failed message was answered {bad[0]} {bad[2]}, expected 500 naming the failure")
    code, report = run.stop()
    if code != 0:
        fail(f"weir exited with {code}")
    check_books(report, "ackfail")
    source = report["stages"]["ingest"]
    if (source["acked"], source["nacked"]) != (3, 1):
        fail(f"acked {source['acked']}, nacked {source['nacked']}; expected 3 and 1")


@contextlib.contextmanager
def endpoint(folder, fail_every, status=503):
    received = os.path.join(folder, "received.jsonl")
    server = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_endpoint.py"), received,
         "--fail-every", str(fail_every), "--status", str(status), "--retry-after", "0"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        port = int(server.stdout.readline())
        yield port, received
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


JSON_NUMBER = '{{"n": {seq}}}'  # a generate template: {"n": 0}, {"n": 1}, ...


def numbers_posted(name, count, payload, post):
    """A pipeline of `count` generated messages (`payload`, a template) that an
    http_client stage posts; `post` is its YAML below `input:` (and any
    further stages)."""
    return f"""pipeline: {name}
stages:
  numbers:
    plugin: generate
    config: {{count: {count}, payload: '{payload}'}}
  post:
    plugin: http_client
    input: numbers
""" + post


def mode_client(weir, folder):
    count = 5_000
    with endpoint(folder, 5) as (port, received):
        yaml = numbers_posted("http-client", count, JSON_NUMBER, f"""    on_error: {{retries: 3, backoff: 10ms}}
    config:
      url: 'http://127.0.0.1:{port}/ingest'
      format: json_array
      headers: {{X-Pipeline: http-client}}
      batch_max_messages: 100
      backoff: 10ms
      retries: 5
""")
        run = Weir(weir, folder, "client", yaml).start()
        code, report = run.wait()
        if code != 0:
            fail(f"weir exited with {code}")
        with open(received) as f:
            requests = [json.loads(line) for line in f]
    delivered = {}
    for request in requests:
        if request["status"] != 200:
            continue
        if request["headers"].get("X-Pipeline") != "http-client":
            fail(f"request {request['n']} lacks the templated header")
        for item in json.loads(request["body"]):
            delivered[item["n"]] = delivered.get(item["n"], 0) + 1
    missing = set(range(count)) - delivered.keys()
    refused = sum(1 for r in requests if r["status"] != 200)
    sink = report["stages"]["post"]
    print(f"messages {count}, requests {len(requests)} ({refused} answered 503), delivered {sum(delivered.values())} "
          f"({len(delivered)} distinct), missing {len(missing)}, sink received {sink['received']}, "
          f"failed {sink['failed']}, dead-lettered {sink['dead_lettered']}, retried by on_error {sink['retried']}")
    check_books(report, "client")
    if missing:
        fail(f"{len(missing)} messages never delivered, e.g. {sorted(missing)[:5]}")
    if refused == 0:
        fail("the endpoint refused nothing: the test did not test retries")
    if sink["failed"] or sink["dead_lettered"]:
        fail("messages failed although every request is retried")


def mode_refused(weir, folder):
    count = 50
    dead = os.path.join(folder, "dead.jsonl")
    with endpoint(folder, 1, 400) as (port, received):
        yaml = numbers_posted("http-refused", count, "n{seq}", f"""    on_error: {{retries: 2, backoff: 10ms, dead_letter: undelivered}}
    config: {{url: 'http://127.0.0.1:{port}/ingest', retries: 5, backoff: 10ms}}
  undelivered:
    plugin: file
    config: {{path: {dead}, format: json}}
""")
        run = Weir(weir, folder, "refused", yaml).start()
        code, report = run.wait()
        with open(received) as f:
            requests = sum(1 for _ in f)
    with open(dead) as f:
        letters = [json.loads(line) for line in f]
    sink = report["stages"]["post"]
    print(f"messages {count}, requests {requests}, dead-lettered {sink['dead_lettered']}, "
          f"retried by on_error {sink['retried']}; an error: {letters[0]['attributes']['error'] if letters else '-'}")
    check_books(report, "refused")
    if code != 0:
        fail(f"weir exited with {code}")
    if sorted(m["payload"] for m in letters) != sorted(f"n{i}" for i in range(count)):
        fail("not every message is in the dead-letter file")
    if not all("answered 400" in m["attributes"]["error"] for m in letters):
        fail("a dead letter's error does not say the endpoint answered 400")
    if sink["retried"] != 0:
        fail("a 400 was retried by on_error: it is permanent")


def mode_tls(weir, folder):
    openssl = shutil.which("openssl")
    if not openssl:
        fail("the openssl command is needed to make a test certificate (Debian: openssl)")
    cert, key = os.path.join(folder, "server.crt"), os.path.join(folder, "server.key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    out = os.path.join(folder, "out.txt")
    server = Weir(weir, folder, "tls-server", f"""pipeline: tls-server
stages:
  ingest:
    plugin: http_server
    config: {{address: '127.0.0.1:0', format: ndjson, tls_cert: {cert}, tls_key: {key}}}
  archive:
    plugin: file
    input: ingest
    config: {{path: {out}}}
""").start()
    port = server.port()
    count = 2_000
    client = Weir(weir, folder, "tls-client", numbers_posted("tls-client", count, JSON_NUMBER, f"""    config: {{url: 'https://127.0.0.1:{port}/in', tls_ca: {cert}}}
""")).start()
    code, client_report = client.wait()
    if code != 0:
        fail(f"the client exited with {code}")
    check_books(client_report, "tls-client")
    # A client of its own checks the certificate too; its connection stays
    # open (idle, keep-alive) while the server stops.
    context = ssl.create_default_context(cafile=cert)
    probe = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    probe.request("GET", "/health")
    response = probe.getresponse()
    health = response.status
    response.read()
    code, report = server.stop()
    probe.close()
    if code != 0:
        fail(f"the server exited with {code}")
    check_books(report, "tls-server")
    with open(out) as f:
        got = {json.loads(line)["n"] for line in f}
    print(f"over TLS: sent {count}, written {len(got)}, health over https {health}; SIGTERM with an idle TLS "
          f"connection open to exit: {server.stopped_in:.2f} s")
    if got != set(range(count)) or health != 200:
        fail("messages missing over TLS, or health not 200")


def mode_kafka(weir, folder, mock_cluster):
    from kafka_cluster import MockCluster  # noqa: E402
    repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repository, "pipelines", "http-to-kafka.yaml")) as f:
        example = f.read()
    clients, per_client = 4, 1_000
    out = os.path.join(folder, "events.jsonl")
    with MockCluster(mock_cluster, {"events": 3}) as cluster:
        os.environ["KAFKA_BROKERS"] = cluster.bootstrap
        os.environ["HTTP_ADDRESS"] = "127.0.0.1:0"
        run = Weir(weir, folder, "http-to-kafka", example).start()
        port = run.port()
        counts = post_from_clients(port, lambda c: [json.dumps({"client": c, "i": i}) for i in range(per_client)],
                                   clients, 100, "/events")
        code, report = run.stop()
        if code != 0:
            fail(f"http-to-kafka exited with {code}")
        check_books(report, "http-to-kafka")
        reader = Weir(weir, folder, "read-back", f"""pipeline: read-back
stages:
  events:
    plugin: kafka
    config: {{brokers: ['{cluster.bootstrap}'], topics: [events], group: read-back, start_offset: earliest}}
  archive:
    plugin: file
    input: events
    config: {{path: {out}}}
""").start()
        expected = clients * per_client

        def lines_written():
            if not os.path.exists(out):
                return None
            with open(out) as f:
                return sum(1 for _ in f) >= expected
        wait_for(f"{expected} events read back from Kafka", lines_written, 120, context=started_logs)
        code, _ = reader.stop()
        if code != 0:
            fail(f"the reader exited with {code}")
    with open(out) as f:
        got = [json.loads(line) for line in f]
    distinct = {(e["client"], e["i"]) for e in got}
    source = report["stages"]["events"]
    print(f"events {expected}, requests answered 200: {counts['ok']}, 503 and sent again: {counts['busy']}; "
          f"source acked {source['acked']}; read back {len(got)} ({len(distinct)} distinct)")
    if len(distinct) != expected:
        fail(f"{expected - len(distinct)} events missing in Kafka")


MODES = {"ingest": mode_ingest, "slow": mode_slow, "limits": mode_limits, "ackfail": mode_ackfail,
         "client": mode_client, "refused": mode_refused, "tls": mode_tls}


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "kafka":
        weir, mode = sys.argv[1], "kafka"
        run = lambda folder: mode_kafka(weir, folder, sys.argv[3])  # noqa: E731
    elif len(sys.argv) == 3 and sys.argv[2] in MODES:
        weir, mode = sys.argv[1], sys.argv[2]
        run = lambda folder: MODES[mode](weir, folder)  # noqa: E731
    else:
        raise SystemExit(f"usage: {sys.argv[0]} WEIR {'|'.join(MODES)}, or WEIR kafka KAFKA_MOCK_CLUSTER")
    folder = tempfile.mkdtemp(prefix=f"weir-http-{mode}-")
    try:
        run(folder)
    finally:
        for process in STARTED:
            process.kill()
    shutil.rmtree(folder, ignore_errors=True)
    print(f"{mode}: OK")


if __name__ == "__main__":
    main()
