#!/usr/bin/env python3
"""`weir run` as a user meets it, one case per ctest test.

Usage: run_test.py CASE WEIR PIPELINES_DIR

Each case starts weir as a subprocess and checks its exit code, its stdout and
stderr, and (for --metrics) what it serves on 127.0.0.1. Where a case must act
while the pipeline runs (a signal, a scrape), it waits for weir to say it is
running, never for a length of time; DEADLINE only stops a hung case.
"""

import contextlib
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

DEADLINE = 120  # seconds; only ends a case that hangs
RUNNING = re.compile(r"pipeline '[^']+': running \d+ stages")
SERVING = re.compile(r"metrics: serving http://127\.0\.0\.1:(\d+)/metrics")
FRAME_BAR = re.compile(r"\[[#.]{10,}\] +\d+/\d+ +(writers blocked|readers starved|flowing|idle|closed)")


def fail(message, *outputs):
    for output in outputs:
        sys.stderr.write(f"---\n{output}\n")
    raise SystemExit(f"FAIL: {message}")


def check(condition, message, *outputs):
    if not condition:
        fail(message, *outputs)


def run(*args, expect):
    result = subprocess.run([WEIR, "run", *args], capture_output=True, text=True, timeout=DEADLINE)
    check(result.returncode == expect, f"weir run {' '.join(args)} exited {result.returncode}, not {expect}",
          result.stdout, result.stderr)
    return result


def books(report, status):
    check(report["status"] == status, f"status {report['status']}, not {status}", json.dumps(report, indent=1))
    check(report["balanced"] is True, "the books do not balance", json.dumps(report, indent=1))
    for key in ("pipeline", "stages", "edges", "bottleneck"):
        check(key in report, f"the report lacks '{key}'")
    for name, stage in report["stages"].items():
        for key in ("received", "emitted", "filtered", "dead_lettered", "failed", "dropped", "abandoned",
                    "retried", "latency", "blocked_ms", "starved_ms", "per_replica"):
            check(key in stage, f"stage {name} lacks '{key}'")


class Running:
    """weir run in the background, its stderr read line by line on a thread."""

    def __init__(self, *args):
        self.process = subprocess.Popen([WEIR, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)
            self.changed.notify_all()

    def wait_for_line(self, pattern):
        with self.changed:
            found = self.changed.wait_for(
                lambda: any(line is None or pattern.search(line) for line in self.lines), timeout=DEADLINE)
            match = next((pattern.search(l) for l in self.lines if l and pattern.search(l)), None)
        check(found and match, f"weir never printed /{pattern.pattern}/", self.stderr())
        return match

    def stderr(self):
        return "".join(line for line in self.lines if line)

    def finish(self, expect):
        stdout = self.process.stdout.read()
        code = self.process.wait(timeout=DEADLINE)
        self.reader.join(timeout=DEADLINE)
        check(code == expect, f"weir exited {code}, not {expect}", stdout, self.stderr())
        return stdout


def probe(port, path):
    """(status, body) of GET path; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=DEADLINE) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until_ready(weir, port):
    """Polls /ready (bounded) until the running weir says 200."""
    give_up = time.monotonic() + DEADLINE
    while time.monotonic() < give_up and weir.process.poll() is None:
        try:
            if probe(port, "/ready")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.02)
    fail("/ready never said 200", weir.stderr())


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE) as response:
        check(response.status == 200, f"/metrics answered {response.status}")
        check(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"), "not Prometheus text")
        return response.read().decode()


SAMPLE = re.compile(r'^([a-z_]+)(\{([a-z_]+="(?:[^"\\]|\\.)*")(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? (-?[0-9.e+-]+)$')


def samples(text):
    """{(name, labels text): value}, every line checked against the format."""
    out, declared = {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        match = SAMPLE.match(line)
        check(match, f"not a sample line: {line!r}", text)
        family = re.sub(r"_(bucket|sum|count)$", "", match.group(1))
        check(match.group(1) in declared or family in declared, f"{match.group(1)} has no # HELP / # TYPE", text)
        out[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
    return out


PROCESS_METRICS = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                   "process_open_fds", "process_max_fds", "process_threads", "process_start_time_seconds")


def histograms(values):
    """Every histogram's buckets rise with `le` and end at +Inf == _count."""
    series = {}
    for key, value in values.items():
        name, _, labels = key.partition("{")
        if name.endswith("_bucket"):
            le = re.search(r',le="([^"]+)"', labels).group(1)
            rest = re.sub(r',le="[^"]+"', "", labels)
            series.setdefault((name[:-len("_bucket")], rest), []).append((float(le), value))
    check(series, "no histogram")
    for (name, labels), buckets in series.items():
        counts = [count for _, count in sorted(buckets)]
        check(counts == sorted(counts), f"{name}{{{labels}: buckets not cumulative: {buckets}")
        check(buckets[-1][0] == float("inf"), f"{name}: the last bucket is not +Inf")
        check(values[f"{name}_count{{{labels}"] == counts[-1], f"{name}{{{labels}: +Inf != _count")
        check(f"{name}_sum{{{labels}" in values, f"{name}{{{labels}: no _sum")


# ---- cases -----------------------------------------------------------------------

def case_report_stdout():
    result = run(f"{PIPELINES}/count.yaml", "--report", "-", "--no-progress", expect=0)
    report = json.loads(result.stdout)  # stdout carries the JSON alone
    books(report, "drained")
    check(report["stages"]["numbers"]["emitted"] == 100, "two producers x 50", result.stdout)
    check(report["stages"]["tally"]["received"] == 100, "the sink got all 100", result.stdout)
    edge = report["edges"][0]
    check((edge["from"], edge["to"], edge["capacity"], edge["sent"], edge["delivered"]) ==
          ("numbers", "tally", 16, 100, 100), f"edge {edge}")
    check(re.search(r"^pipeline 'cli-count': drained in", result.stderr, re.M), "no summary", result.stderr)
    check(re.search(r"^numbers +2 +0 +100 ", result.stderr, re.M), "no source row", result.stderr)
    check("per replica: #0=50 #1=50" in result.stderr, "no per-replica counts", result.stderr)
    check("msg/s" not in result.stderr, "--no-progress drew the live view", result.stderr)


def case_report_file():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "report.json")
        result = run(f"{PIPELINES}/count.yaml", "--report", path, "--set", "numbers.config.count=7", expect=0)
        check("{" not in result.stdout, "the report went to stdout too", result.stdout)
        with open(path) as file:
            report = json.load(file)
        books(report, "drained")
        check(report["stages"]["tally"]["received"] == 14, "--set count=7 on two replicas", json.dumps(report))


def case_bad_input():
    cases = [
        (["/nonexistent/pipeline.yaml"], r"/nonexistent/pipeline\.yaml"),
        ([f"{PIPELINES}/count.yaml", "--set", "numbers"], r"expected STAGE\.KEY=VALUE"),
        ([f"{PIPELINES}/count.yaml", "--set", "numbers.config.count=many"], r"count"),
        ([f"{PIPELINES}/count.yaml", "--metrics", "localhost"], r"expected HOST:PORT"),
        ([f"{PIPELINES}/count.yaml", "--metrics", "127.0.0.1:99999"], r"not a number from 0 to 65535"),
        ([f"{PIPELINES}/count.yaml", "--progress", "--no-progress"], r"excludes"),
        ([f"{PIPELINES}/count.yaml", "--report", "/nonexistent/folder/report.json"], r"cannot open it for writing"),
    ]
    for args, message in cases:
        result = run(*args, expect=2)
        check(re.search(message, result.stderr), f"{args}: no /{message}/ in stderr", result.stderr)
        check(not RUNNING.search(result.stderr), f"{args}: the pipeline ran", result.stderr)


def case_error_quotes_safely():
    # A stage's constructor quotes a pattern holding a newline and an escape
    # code (issue 16): the error stays one line, with both escaped.
    result = run(f"{PIPELINES}/bad-regex.yaml", "--no-progress", expect=2)
    errors = [line for line in result.stderr.splitlines() if "not a valid regular expression" in line]
    check(len(errors) == 1, "the error is not one line", result.stderr)
    check("a\\nother.yaml:1:1: error: all is fine\\x1b[2J" in errors[0], "newline or escape not escaped", result.stderr)
    check("\x1b" not in result.stderr, "an escape code reached the terminal", result.stderr)
    check(not re.search(r"^other\.yaml:1:1", result.stderr, re.M), "a forged diagnostic line", result.stderr)


def case_metrics_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(f"{PIPELINES}/count.yaml", "--metrics", f"127.0.0.1:{port}", expect=2)
    check(f"127.0.0.1:{port}: cannot listen" in result.stderr, "no clear error", result.stderr)
    check(not RUNNING.search(result.stderr) and "drained" not in result.stderr, "something started", result.stderr)


def case_metrics():
    weir = Running(f"{PIPELINES}/endless.yaml", "--metrics", "127.0.0.1:0", "--no-progress", "--report", "-")
    port = int(weir.wait_for_line(SERVING).group(1))
    weir.wait_for_line(RUNNING)
    first = samples(scrape(port))
    # The second scrape once `work` has finished a message (1 ms each; on a
    # loaded machine the first scrape can come before any).
    give_up = time.monotonic() + DEADLINE
    while True:
        second = samples(scrape(port))
        if second.get('weir_stage_process_seconds_count{pipeline="cli-endless",stage="work"}', 0) > 0:
            break
        check(time.monotonic() < give_up, "no latency recorded", "\n".join(second))
        time.sleep(0.05)
    expected = [
        'weir_stage_messages_total{stage="work",outcome="emitted"}',
        'weir_stage_messages_total{stage="tally",outcome="abandoned"}',
        'weir_stage_received_total{stage="tally"}',
        'weir_stage_blocked_seconds_total{stage="ticks"}',
        'weir_stage_starved_seconds_total{stage="work"}',
        'weir_channel_depth{stage="work",lane="urgent"}',
        'weir_channel_depth{stage="tally",lane="default"}',
        'weir_channel_capacity{stage="work",lane="normal"}',
        'weir_edge_messages_total{from="ticks",to="work",lane="normal",outcome="sent"}',
        'weir_edge_blocked_seconds_total{from="work",to="tally",lane="default"}',
        'weir_stage_process_seconds_count{stage="work"}',
        'weir_stage_wait_seconds_count{stage="tally"}',
        'weir_channel_wait_seconds_count{stage="work",lane="normal"}',
        'weir_pipeline_running{}',
    ] + [f"{name}{{}}" for name in PROCESS_METRICS]
    expected = [key.replace("{", '{pipeline="cli-endless",').replace(",}", "}") for key in expected]
    for key in expected:
        check(key in first, f"/metrics lacks {key}", "\n".join(first))
    check(probe(port, "/health") == (200, "ok\n"), f"/health: {probe(port, '/health')}")
    check(probe(port, "/ready") == (200, "ready\n"), f"/ready while running: {probe(port, '/ready')}")
    check(first['weir_channel_capacity{pipeline="cli-endless",stage="work",lane="normal"}'] == 8, "capacity 8")
    check(first['weir_pipeline_running{pipeline="cli-endless"}'] == 1, "not running")
    for key, value in first.items():
        check(key.startswith(key.split("{")[0] + '{pipeline="cli-endless"'), f"{key}: no pipeline label first")
        if key.split("{")[0].endswith("_total"):
            check(second[key] >= value, f"counter {key} went down: {value} then {second[key]}")
    check(second['weir_stage_process_seconds_count{pipeline="cli-endless",stage="work"}'] > 0, "no latency recorded")
    # simulate_work takes 1 ms a message: none of it at or under 1 us, all of it under 10 s.
    check(second['weir_stage_process_seconds_bucket{pipeline="cli-endless",stage="work",le="1e-06"}'] == 0,
          "a 1 ms message counted at or under 1 us")
    check(second['weir_stage_process_seconds_bucket{pipeline="cli-endless",stage="work",le="10"}'] ==
          second['weir_stage_process_seconds_count{pipeline="cli-endless",stage="work"}'], "a message over 10 s")
    histograms(second)
    check(second['process_threads{pipeline="cli-endless"}'] >= 4, "fewer threads than stages and the server")
    check(second['process_resident_memory_bytes{pipeline="cli-endless"}'] > 1e6, "RSS under 1 MB")
    check(0 < second['process_open_fds{pipeline="cli-endless"}'] <= second['process_max_fds{pipeline="cli-endless"}'],
          "open fds")
    check(abs(second['process_start_time_seconds{pipeline="cli-endless"}'] - time.time()) < 3600, "start time")
    weir.process.send_signal(signal.SIGINT)
    report = json.loads(weir.finish(expect=0))
    books(report, "drained")
    try:
        scrape(port)
        fail("/metrics still answers after the run")
    except OSError:
        pass


def weir_command(*args, timeout=DEADLINE):
    """Another weir command (tap, top) run to its end."""
    return subprocess.run([WEIR, *args], capture_output=True, text=True, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def refusing_port():
    """A port bound here and never listened on: a connection is refused, and
    no other process can take the port meanwhile."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def tap_lines(result, count):
    """The JSON lines `weir tap` printed: exactly `count`, each a message."""
    lines = result.stdout.splitlines()
    check(len(lines) == count, f"{len(lines)} lines, not {count}", result.stdout, result.stderr)
    messages = []
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            fail(f"not a JSON line: {line!r}", result.stdout)
        check(list(message) == ["id", "priority", "attributes", "payload"], f"the stdout sink's keys: {line}")
        messages.append(message)
    return messages


def case_tap():
    weir = Running(f"{PIPELINES}/tap.yaml", "--metrics", "127.0.0.1:0", "--no-progress", "--report", "-")
    port = int(weir.wait_for_line(SERVING).group(1))
    weir.wait_for_line(RUNNING)
    address = f"127.0.0.1:{port}"
    try:
        # A processor's outputs, a source's, a sink's inputs: exactly N each.
        for stage in ("work", "ticks", "tally"):
            result = weir_command("tap", stage, "--limit", "5", "--metrics", address)
            check(result.returncode == 0, f"tap {stage} exited {result.returncode}", result.stdout, result.stderr)
            for message in tap_lines(result, 5):
                check(re.fullmatch(r"(plain|urgent) \d+ from [01]", message["payload"]), f"payload {message}")
        # --when: only what it matches.
        result = weir_command("tap", "work", "--limit", "7", "--when", 'kind == "urgent" && priority == 5',
                              "--metrics", address)
        check(result.returncode == 0, f"tap --when exited {result.returncode}", result.stdout, result.stderr)
        for message in tap_lines(result, 7):
            check(message["attributes"] == {"kind": "urgent"} and message["priority"] == 5, f"--when let {message}")
        # Mistakes: an unknown stage, a bad condition (with its column), nobody there.
        result = weir_command("tap", "nope", "--limit", "1", "--metrics", address)
        check(result.returncode == 2, f"unknown stage exited {result.returncode}", result.stderr)
        check("no stage named 'nope'" in result.stderr and "ticks, work, tally" in result.stderr,
              "no clear error for an unknown stage", result.stderr)
        check(result.stdout == "", "printed something for an unknown stage", result.stdout)
        result = weir_command("tap", "work", "--when", "priority >", "--metrics", address)
        check(result.returncode == 2 and "--when: column 11:" in result.stderr, "bad --when", result.stderr)
        with refusing_port() as closed:
            result = weir_command("tap", "work", "--metrics", f"127.0.0.1:{closed}")
        check(result.returncode == 1 and "nothing answers at 127.0.0.1:" in result.stderr, "nobody listening",
              result.stderr)
        # A tapper that hangs up: its stream ends and its tap is detached.
        tapper = subprocess.Popen([WEIR, "tap", "work", "--metrics", address], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            json.loads(tapper.stdout.readline())
            check(samples(scrape(port))[f'weir_taps_open{{pipeline="cli-tap"}}'] == 1, "the open tap is not counted")
        finally:
            tapper.kill()
            tapper.wait(timeout=DEADLINE)
        give_up = time.monotonic() + DEADLINE
        while samples(scrape(port))['weir_taps_open{pipeline="cli-tap"}'] != 0:
            check(time.monotonic() < give_up, "the tap of a tapper that hung up is still open")
            time.sleep(0.05)
    finally:
        weir.process.send_signal(signal.SIGINT)
    report = json.loads(weir.finish(expect=0))
    books(report, "drained")
    check(report["stages"]["tally"]["received"] == report["stages"]["ticks"]["emitted"], "a message was lost")


def case_top():
    weir = Running(f"{PIPELINES}/tap.yaml", "--metrics", "127.0.0.1:0", "--no-progress", "--report", "-")
    port = int(weir.wait_for_line(SERVING).group(1))
    weir.wait_for_line(RUNNING)
    address = f"127.0.0.1:{port}"
    watcher = None
    try:
        # Not a terminal: --once prints one frame, with rates, and exits.
        result = weir_command("top", address, "--once", "--interval", "0.2")
        check(result.returncode == 0, f"top --once exited {result.returncode}", result.stdout, result.stderr)
        frame = result.stdout
        check(frame.count("weir: 'cli-tap' running") == 1, "not one frame", frame)
        for stage in ("ticks", "work", "tally"):
            check(re.search(rf"^{stage} +\d+ +\d+\.\d ", frame, re.M), f"no row with a rate for {stage}", frame)
        check(FRAME_BAR.search(frame) and "ticks -> work" in frame, "no channel rows", frame)
        check("\x1b[" not in frame, "cursor moves in a file", frame)
        # Attached until the run ends: one frame per interval, then it leaves.
        watcher = subprocess.Popen([WEIR, "top", "--metrics", address, "--interval", "0.1"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        for _ in range(2):
            line = watcher.stdout.readline()
            while line and not line.startswith("weir: 'cli-tap'"):
                line = watcher.stdout.readline()
            check(line.startswith("weir: 'cli-tap' running"), "top printed no frame", line)
        # Nothing listening: a clear error and exit 1.
        with refusing_port() as closed:
            result = weir_command("top", f"127.0.0.1:{closed}", "--once")
        check(result.returncode == 1 and "nothing answers at 127.0.0.1:" in result.stderr, "nobody listening",
              result.stderr)
    finally:
        weir.process.send_signal(signal.SIGINT)
    books(json.loads(weir.finish(expect=0)), "drained")
    try:
        rest, errors = watcher.communicate(timeout=DEADLINE) if watcher else ("", "")
    finally:
        if watcher:
            watcher.kill()
    check(watcher.returncode == 0, f"top exited {watcher.returncode} when the run ended", errors)
    check("has gone" in errors or "drained" in rest, "top did not see the run end", rest, errors)


def case_sigint_drains():
    weir = Running(f"{PIPELINES}/endless.yaml", "--report", "-")
    weir.wait_for_line(RUNNING)
    weir.process.send_signal(signal.SIGINT)
    report = json.loads(weir.finish(expect=0))
    books(report, "drained")
    for name, stage in report["stages"].items():
        check(stage["abandoned"] == 0, f"{name} abandoned {stage['abandoned']}", json.dumps(report))
    check(report["stages"]["tally"]["received"] == report["stages"]["ticks"]["emitted"], "all reached the sink")
    check("stopping; draining" in weir.stderr(), "no word of the drain", weir.stderr())


def full_channel(weir, stage):
    """Waits for the live view (--progress) to show the stage's channel full."""
    weir.wait_for_line(re.compile(rf"-> {stage} +\[#+\] +(\d+)/\1 +writers blocked"))


def case_second_sigint_forces():
    weir = Running(f"{PIPELINES}/slow-drain.yaml", "--report", "-", "--progress")
    weir.wait_for_line(RUNNING)
    full_channel(weir, "slow")
    weir.process.send_signal(signal.SIGINT)
    weir.wait_for_line(re.compile("stopping; draining"))
    weir.process.send_signal(signal.SIGINT)
    report = json.loads(weir.finish(expect=1))
    books(report, "forced")
    check(report["stages"]["slow"]["abandoned"] > 0, "nothing abandoned", json.dumps(report))
    check(report["edges"][0]["abandoned"] == report["stages"]["slow"]["abandoned"], "abandoned per channel")
    check("forcing the stop" in weir.stderr(), "no word of the forced stop", weir.stderr())
    check(re.search(r"^pipeline 'cli-slow-drain': forced", weir.stderr(), re.M), "no summary", weir.stderr())


def case_drain_timeout_forces():
    weir = Running(f"{PIPELINES}/stuck.yaml", "--report", "-", "--progress")
    weir.wait_for_line(RUNNING)
    full_channel(weir, "slow")
    weir.process.send_signal(signal.SIGINT)
    report = json.loads(weir.finish(expect=1))
    books(report, "forced")
    check(report["stages"]["slow"]["abandoned"] > 0, "nothing abandoned", json.dumps(report))
    check("drain_timeout" in weir.stderr(), "no word of drain_timeout", weir.stderr())


def run_in_terminal(args, until=None):
    """weir run under a pseudo-terminal: returns (exit code, everything it wrote).
    With `until`, sends SIGINT once the output matches it."""
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(WEIR, [WEIR, "run", *args])
    output, signalled = b"", False
    while True:
        ready, _, _ = select.select([terminal], [], [], DEADLINE)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            fail("weir hung under a terminal", output.decode(errors="replace"))
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the child has closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if until and not signalled and until.search(output.decode(errors="replace")):
            os.kill(pid, signal.SIGINT)
            signalled = True
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def case_live_view_on_terminal():
    # Two frames drawn (the second redrawn over the first) before the SIGINT.
    redrawn = re.compile(r"\x1b\[\d+A\r\x1b\[J(.|\n)*" + FRAME_BAR.pattern)
    code, output = run_in_terminal([f"{PIPELINES}/endless.yaml"], until=redrawn)
    check(code == 0, f"exited {code}", output)
    for row in (r"^stage +rep +msg/s +in +out", r"^work +1 +[0-9.-]+ +\d+ +\d+", r"^channel +fill",
                r"^ticks -> work \[urgent\] +\[[#.]+\]", r"^work -> tally +\[[#.]+\] +\d+/\d+ "):
        check(re.search(row, output, re.M), f"the live view lacks /{row}/", output)
    # A log record while the view is up is written in place of the frame,
    # which is then redrawn below it (the sink logs its count when it stops).
    check(re.search(r"\x1b\[\d+A\r\x1b\[J\[[^\n]*\] \[tally\] \[info\] counted \d+ messages[^\n]*\r?\nweir: 'cli-endless'",
                    output), "a log line was not printed above the frame", output)
    # The summary table is left below the last frame.
    check(re.search(r"msg/s(.|\n)*pipeline 'cli-endless': drained in", output), "no summary after the view", output)


def case_no_progress_on_terminal():
    code, output = run_in_terminal([f"{PIPELINES}/count.yaml", "--no-progress"])
    check(code == 0, f"exited {code}", output)
    check("msg/s" not in output and "\x1b[J" not in output, "--no-progress drew the live view", output)
    check("pipeline 'cli-count': drained" in output, "no summary", output)


def case_progress_forced():
    result = run(f"{PIPELINES}/count.yaml", "--progress", expect=0)
    check(re.search(r"^numbers -> tally +\[[#.]+\] +\d+/16 ", result.stderr, re.M),
          "--progress drew no channel bar on a pipe", result.stderr)
    check(result.stdout == "", "the live view went to stdout", result.stdout)


def case_quiet():
    result = run(f"{PIPELINES}/count.yaml", "--quiet", "--report", "-", expect=0)
    check(result.stderr == "", "--quiet wrote to stderr on a good run", result.stderr)
    books(json.loads(result.stdout), "drained")  # the report still goes where it was asked
    # A run that does not drain still says so, and only that (no summary, no warnings).
    # --quiet hides the lines that say it runs and where it serves: /ready tells instead.
    weir = quiet_with_metrics(f"{PIPELINES}/stuck.yaml")
    weir.process.send_signal(signal.SIGINT)
    weir.finish(expect=1)
    lines = weir.stderr().splitlines()
    check(len(lines) == 1 and re.search(r"\[error\] pipeline 'cli-stuck': forced after", lines[0]),
          "--quiet: one error line for a forced run", weir.stderr())


def listening(pid, port):
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port`."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for row in list(table)[1:]:
            fields = row.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            pass  # closed meanwhile
    return False


def quiet_with_metrics(pipeline):
    """A --quiet run serving --metrics on a port chosen here: --quiet prints no
    line to read port 0 from. A test running beside this one may take the port
    first; weir then exits 2 saying so, and another port is tried. /ready is
    asked only once this weir holds the port, so no other process answers."""
    for _ in range(5):
        port = free_port()
        weir = Running(pipeline, "--quiet", "--metrics", f"127.0.0.1:{port}")
        give_up = time.monotonic() + DEADLINE
        while weir.process.poll() is None and not listening(weir.process.pid, port):
            check(time.monotonic() < give_up, f"weir never listened on port {port}", weir.stderr())
            time.sleep(0.02)
        if weir.process.poll() is None:
            wait_until_ready(weir, port)
            return weir
        weir.finish(expect=2)
        check("cannot listen there" in weir.stderr(), "weir ended before listening", weir.stderr())
    fail("five ports in a row were taken before weir could listen on them")


def case_log_format_json():
    result = run(f"{PIPELINES}/count.yaml", "--log-format", "json", "--no-progress", "--report", "-", expect=0)
    books(json.loads(result.stdout), "drained")
    records = []
    for line in result.stderr.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            fail(f"a stderr line is not JSON: {line!r}", result.stderr)
    for record in records:
        check(set(record) == {"time", "level", "logger", "message"}, f"keys of {record}", result.stderr)
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"]), f"time {record['time']}")
    messages = [r["message"] for r in records]
    check(any("running 2 stages" in m for m in messages), "no 'running' record", result.stderr)
    check(any(re.search(r"'cli-count': drained in", m) for m in messages), "no summary record", result.stderr)


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: run_test.py {{{'|'.join(CASES)}}} WEIR PIPELINES_DIR")
    WEIR, PIPELINES = sys.argv[2], sys.argv[3]
    CASES[sys.argv[1]]()
    print(f"ok: {sys.argv[1]}")
