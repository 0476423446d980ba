#!/usr/bin/env python3
"""The cases of issue 17, each as a user or an operator meets it: a signal
while weir loads its pipeline, a limit on threads, bounds that validate
checks, exit codes that never hide missing input, an atomic report file, and
the metrics endpoint under idle connections.

Usage: cases_test.py CASE WEIR PIPELINES_DIR

Waits are for events (weir's own lines, an inotify event on the pipeline
file), never for a length of time; one case draws random delays (the seed is
printed) and sleeps once per run before sending its signal.
"""

import ctypes
import json
import os
import random
import re
import resource
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import run_test  # noqa: E402
from run_test import RUNNING, SERVING, books, check, fail  # noqa: E402

IN_OPEN = 0x20


def write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def weir(*args, expect, **popen):
    result = subprocess.run([WEIR, *args], capture_output=True, text=True, timeout=run_test.DEADLINE, **popen)
    check(result.returncode == expect, f"weir {' '.join(args)} exited {result.returncode}, not {expect}",
          result.stdout, result.stderr)
    return result


def case_sigint_while_loading():
    """SIGINT while weir reads its pipeline and loads the plugins (before
    today's code blocked the signals): the run still drains, exit 0, with a
    report. The moment is drawn at random after weir opens the pipeline file,
    which an inotify watch reports as it happens."""
    libc = ctypes.CDLL(None, use_errno=True)
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    pipeline = os.path.join(PIPELINES, "count.yaml")
    for run in range(30):
        watch = libc.inotify_init1(os.O_CLOEXEC)
        check(watch >= 0, "inotify_init1 failed")
        try:
            check(libc.inotify_add_watch(watch, pipeline.encode(), IN_OPEN) >= 0, "inotify_add_watch failed")
            process = subprocess.Popen([WEIR, "run", pipeline, "--report", "-", "--no-progress"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            ready, _, _ = select.select([watch], [], [], run_test.DEADLINE)
            check(ready, "weir never opened its pipeline")
        finally:
            os.close(watch)
        delay = rng.uniform(0, 0.008)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=run_test.DEADLINE)
        check(process.returncode == 0, f"run {run}: SIGINT {delay * 1000:.1f} ms after the pipeline was opened: "
              f"exit {process.returncode}", stderr)
        books(json.loads(stdout), "drained")


def case_thread_limit():
    """A limit on threads (here: address space for their stacks, which binds
    root as well): an error naming the stage at start, exit 2, no hang."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, "many.yaml", """pipeline: many-threads
stages:
  numbers: {plugin: generate, config: {count: 1000}}
  work: {plugin: simulate_work, input: numbers, replicas: 1000}
  tally: {plugin: count, input: work}
""")
        limit = 1 << 30

        def limited():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        result = weir("run", path, "--no-progress", expect=2, preexec_fn=limited)
        pattern = (r"error: pipeline 'many-threads': cannot create a thread for stage '\w+' replica \d+: .*"
                   r"ask for fewer replicas")
        check(re.search(pattern, result.stderr), f"no /{pattern}/", result.stderr)


def case_validate_bounds():
    """replicas and capacity have upper bounds that validate checks, each at
    its line and column; capacity 4294967297 is one of them, not bad_alloc."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, "huge.yaml", """pipeline: huge
stages:
  numbers: {plugin: generate, config: {count: 10}}
  work:
    plugin: simulate_work
    input: numbers
    replicas: 100000
    capacity: 4294967297
    lanes:
      - {name: urgent, when: 'priority > 0', capacity: 2000000}
      - {name: normal}
  tally: {plugin: count, input: work}
""")
        for command in ("validate", "run"):
            result = weir(command, path, expect=2)
            for pattern in (rf"{re.escape(path)}:7:15: error: stage 'work': replicas must be at most 1024, found 100000",
                            rf"{re.escape(path)}:8:15: error: stage 'work': capacity must be at most 1048576 messages, found 4294967297",
                            rf"{re.escape(path)}:10:9: error: stage 'work': lane 'urgent': capacity must be at most 1048576"):
                check(re.search(pattern, result.stderr), f"{command}: no /{pattern}/", result.stderr)
            check("bad_alloc" not in result.stderr and not RUNNING.search(result.stderr), "it ran", result.stderr)


def case_report_atomic():
    """--report FILE is replaced whole or not at all: a run that stops at its
    configuration leaves the previous report as it was; a finished run
    replaces it, leaving no temporary file behind."""
    with tempfile.TemporaryDirectory() as folder:
        report = write(folder, "report.json", "previous\n")
        # A plugin that refuses its configuration stops the run after the
        # report file was opened, in today's code.
        broken = write(folder, "broken.yaml", """pipeline: broken
stages:
  lines: {plugin: file, config: {path: /nonexistent/input.log}}
  tally: {plugin: count, input: lines}
""")
        weir("run", broken, "--report", report, expect=2)
        with open(report) as f:
            check(f.read() == "previous\n", "the previous report was truncated")
        weir("run", os.path.join(PIPELINES, "count.yaml"), "--report", report, expect=0)
        books(json.load(open(report)), "drained")
        check(os.listdir(folder) == ["report.json", "broken.yaml"] or sorted(os.listdir(folder)) ==
              ["broken.yaml", "report.json"], f"files left: {os.listdir(folder)}")


def case_fail_on_failed():
    """--fail-on failed: a run that drained with failed messages exits 1."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, "failing.yaml", """pipeline: failing
stages:
  numbers: {plugin: generate, config: {count: 10}}
  flaky: {plugin: fail, input: numbers, config: {share: 1.0}}
  tally: {plugin: count, input: flaky}
""")
        report = os.path.join(folder, "report.json")
        weir("run", path, "--report", report, "--no-progress", expect=0)
        books(json.load(open(report)), "drained")
        result = weir("run", path, "--report", report, "--no-progress", "--fail-on", "failed", expect=1)
        check("--fail-on failed: stage 'flaky' has 10 failed message(s)" in result.stderr, "no reason given",
              result.stderr)
        weir("run", path, "--fail-on", "lost", expect=2)


def case_unreadable_inputs():
    """A directory given as the file source's path is an error before
    anything runs (exit 2); a glob with a file that cannot be read goes on
    with the others, counts a warning in the report and, with --strict,
    exits 1."""
    with tempfile.TemporaryDirectory() as folder:
        os.mkdir(os.path.join(folder, "logs"))
        for name in ("a.log", "b.log"):
            write(os.path.join(folder, "logs"), name, "one\ntwo\n")
        os.mkdir(os.path.join(folder, "logs", "c.log"))  # a directory that matches the glob: cannot be read as lines
        report = os.path.join(folder, "report.json")
        directory = write(folder, "directory.yaml", f"""pipeline: directory
stages:
  lines: {{plugin: file, config: {{path: '{folder}/logs'}}}}
  tally: {{plugin: count, input: lines}}
""")
        result = weir("run", directory, "--no-progress", expect=2)
        check(re.search(r"stage 'lines'.*is a directory", result.stderr), "no word of the directory", result.stderr)
        glob = write(folder, "glob.yaml", f"""pipeline: glob
stages:
  lines: {{plugin: file, config: {{path: '{folder}/logs/*.log'}}}}
  tally: {{plugin: count, input: lines}}
""")
        result = weir("run", glob, "--no-progress", "--report", report, expect=0)
        r = json.load(open(report))
        books(r, "drained")
        check(r["stages"]["tally"]["received"] == 4, "the readable files were read", json.dumps(r["stages"]))
        check(r["stages"]["lines"]["warnings"] == 1, "the unreadable one is a warning", json.dumps(r["stages"]))
        check(re.search(r"\[lines\] \[warning\] .*c\.log.*is a directory", result.stderr), "no warning logged",
              result.stderr)
        result = weir("run", glob, "--no-progress", "--strict", expect=1)
        check(re.search(r"--strict: stage 'lines' logged 1 warning", result.stderr), "--strict gave no reason",
              result.stderr)


def case_metrics_idle_connections():
    """500 idle connections open on the metrics endpoint: scrapes are still
    answered, while every idle connection is still held (a server that served
    connections one at a time would answer only after the idle ones had timed
    out and been closed). Timings are printed, not judged."""
    process = run_test.Running(os.path.join(PIPELINES, "endless.yaml"), "--metrics", "127.0.0.1:0", "--no-progress",
                               "--report", "-")
    port = int(process.wait_for_line(SERVING).group(1))
    process.wait_for_line(RUNNING)
    idle = []
    try:
        for _ in range(500):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=run_test.DEADLINE))
        times = []
        for _ in range(5):
            started = time.monotonic()
            run_test.scrape(port)
            times.append(time.monotonic() - started)
        print(f"scrapes with 500 idle connections open: {', '.join(f'{t * 1000:.1f} ms' for t in times)}")
        poller = select.poll()
        for s in idle:
            poller.register(s, select.POLLIN)
        closed = len(poller.poll(0))  # readable: the server closed it (nothing was ever sent on them)
        check(closed == 0, f"{closed} idle connections were closed before the scrapes were answered")
    finally:
        for s in idle:
            s.close()
    process.process.send_signal(signal.SIGINT)
    books(json.loads(process.finish(expect=0)), "drained")


def case_metrics_out_of_descriptors():
    """The process runs out of file descriptors while connections keep coming
    (its limit lowered to 64 while it runs): every connection past what it can
    hold is still answered 503, none is left hanging, and once they have
    ended a scrape is answered again."""
    process = run_test.Running(os.path.join(PIPELINES, "endless.yaml"), "--metrics", "127.0.0.1:0", "--no-progress",
                               "--report", "-")
    held, refused = [], 0
    try:
        port = int(process.wait_for_line(SERVING).group(1))
        process.wait_for_line(RUNNING)
        resource.prlimit(process.process.pid, resource.RLIMIT_NOFILE, (64, 64))
        for _ in range(100):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=run_test.DEADLINE))
        # Every connection gets a verdict: 503 at once when it was turned away,
        # or, when it was held, closed without a word after the 10 s idle
        # timeout. Before, those past the limit waited forever in the backlog.
        waiting, deadline = list(held), time.monotonic() + run_test.DEADLINE
        while waiting:
            left = deadline - time.monotonic()
            check(left > 0, f"{len(waiting)} connection(s) never answered nor closed")
            ready, _, _ = select.select(waiting, [], [], left)
            for s in ready:
                data = s.recv(4096)
                check(data == b"" or data.startswith(b"HTTP/1.1 503"), f"a connection was answered {data[:40]!r}")
                refused += data != b""
                waiting.remove(s)
        print(f"100 connections with the descriptor limit at 64: {refused} answered 503, {100 - refused} held")
        check(refused >= 100 - 64, f"only {refused} of 100 connections were answered 503")
        run_test.scrape(port)  # every connection has ended, and its descriptor is free again
        process.process.send_signal(signal.SIGINT)
        books(json.loads(process.finish(expect=0)), "drained")
    finally:
        for s in held:
            s.close()
        if process.process.poll() is None:  # a failed check: leave no server behind
            process.process.kill()


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: cases_test.py {{{'|'.join(CASES)}}} WEIR PIPELINES_DIR")
    WEIR, PIPELINES = sys.argv[2], sys.argv[3]
    run_test.WEIR = WEIR
    CASES[sys.argv[1]]()
    print(f"ok: {sys.argv[1]}")
