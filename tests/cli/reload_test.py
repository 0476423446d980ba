#!/usr/bin/env python3
"""`weir run` reloading its pipeline on SIGHUP and with --watch, one case per
ctest test.

Usage: reload_test.py CASE WEIR

A `file` source with a checkpoint (follow: true) feeds a `set` processor that
stamps each line with a version, which a `file` sink writes as JSON lines.
Each case waits for what weir says or writes, never for a length of time;
DEADLINE only ends a case that hangs. Every weir started is killed on the
way out, also when a check fails.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 60  # seconds, for each wait


def fail(message, *outputs):
    for output in outputs:
        sys.stderr.write(f"---\n{output}\n")
    raise SystemExit(f"FAIL: {message}")


PIPELINE = """pipeline: reload-test
stages:
  lines:
    plugin: file
    config: {{path: '{dir}/input.log', follow: true, checkpoint: '{dir}/checkpoint'}}
  stamp:
    plugin: {plugin}
    input: lines
    config:
      attributes: {{version: '{version}'}}
  out:
    plugin: file
    input: stamp
    config: {{path: '{dir}/out.jsonl', format: json}}
"""


class Weir:
    """weir run as a subprocess, its standard error collected line by line."""

    def __init__(self, directory, *extra):
        self.dir = directory
        self.pipeline = os.path.join(directory, "pipeline.yaml")
        self.lines = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            [WEIR, "run", self.pipeline, "--no-progress", "--report", os.path.join(directory, "report.json"), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def stderr(self):
        with self.changed:
            return "\n".join(self.lines)

    def wait_for_line(self, pattern, start=0):
        """The index of the first line from `start` that matches."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + DEADLINE
        with self.changed:
            while True:
                for i in range(start, len(self.lines)):
                    if regex.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self.reader.is_alive()):
                    fail(f"weir never logged /{pattern}/", "\n".join(self.lines))
                self.changed.wait(min(left, 0.5))

    def finish(self):
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            fail("weir did not end after SIGINT", self.stderr())
        self.reader.join(timeout=DEADLINE)
        if code != 0:
            fail(f"weir exited {code}, not 0", self.stderr())
        with open(os.path.join(self.dir, "report.json")) as f:
            return json.load(f)

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def write_pipeline(directory, version, plugin="set"):
    # Written whole to a new file, then renamed over the old, as editors do:
    # weir never reads half a file.
    path = os.path.join(directory, "pipeline.yaml")
    with open(path + ".new", "w") as f:
        f.write(PIPELINE.format(dir=directory, version=version, plugin=plugin))
    os.replace(path + ".new", path)


def append_lines(directory, first, count):
    with open(os.path.join(directory, "input.log"), "a") as f:
        for i in range(first, first + count):
            f.write(f"line-{i}\n")


def output(directory):
    try:
        with open(os.path.join(directory, "out.jsonl")) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def wait_for_output(weir, count):
    deadline = time.monotonic() + DEADLINE
    while len(output(weir.dir)) < count:
        if time.monotonic() > deadline or weir.process.poll() is not None:
            fail(f"{len(output(weir.dir))} lines in the output, not {count}", weir.stderr())
        time.sleep(0.05)  # a test's bounded wait for a file another process writes


def check_exactly_once(directory, total):
    seen = {}
    for message in output(directory):
        seen.setdefault(message["payload"], []).append(message["attributes"].get("version"))
    wrong = {f"line-{i}": seen.get(f"line-{i}") for i in range(total) if len(seen.get(f"line-{i}", [])) != 1}
    if wrong or len(seen) != total:
        fail(f"not every line exactly once: {dict(list(wrong.items())[:10])}, {len(seen)} distinct of {total}")
    return {payload: versions[0] for payload, versions in seen.items()}


def check_books(report, reloads, weir):
    if report.get("reloads") != reloads:
        fail(f"the report says {report.get('reloads')} reloads, not {reloads}", json.dumps(report, indent=1))
    if report["status"] != "drained" or report["balanced"] is not True:
        fail("the run did not drain with balanced books", json.dumps(report, indent=1), weir.stderr())
    if reloads:
        generations = report["generations"]
        if len(generations) != reloads + 1 or not all(g["balanced"] and g["status"] == "drained" for g in generations):
            fail("a generation's books", json.dumps(generations, indent=1))
        emitted = sum(g["stages"]["lines"]["emitted"] for g in generations)
        written = sum(g["stages"]["out"]["received"] for g in generations)
        return emitted, written
    return report["stages"]["lines"]["emitted"], report["stages"]["out"]["received"]


def scenario(first, change, later, *extra):
    """Runs weir on `first` lines stamped v1, calls change(weir) while it runs,
    then appends `later` lines, waits for them all and stops it. Returns the
    report, each line's version and the weir that ran."""
    with tempfile.TemporaryDirectory() as directory:
        write_pipeline(directory, "v1")
        append_lines(directory, 0, first)
        weir = Weir(directory, *extra)
        try:
            weir.wait_for_line(r"pipeline 'reload-test': running 3 stages")
            wait_for_output(weir, first // 2)  # lines are still flowing
            appended = change(weir)
            append_lines(directory, first + appended, later)  # only the pipeline now running can read these
            wait_for_output(weir, first + appended + later)
            report = weir.finish()
        finally:
            weir.kill()
        return report, check_exactly_once(directory, first + appended + later), weir


def expect_version(versions, lines, version):
    wrong = [line for line in lines if versions[f"line-{line}"] != version]
    if wrong:
        fail(f"lines {wrong[:10]} were not stamped {version}", str(versions))


def case_sighup_reloads():
    def reload(weir):
        write_pipeline(weir.dir, "v2")
        weir.process.send_signal(signal.SIGHUP)
        append_lines(weir.dir, 200, 200)  # while the first pipeline drains
        weir.wait_for_line(r"reload 1: pipeline 'reload-test' running 3 stages")
        return 200

    report, versions, weir = scenario(200, reload, 100)
    expect_version(versions, range(400, 500), "v2")
    expect_version(versions, [0], "v1")
    emitted, written = check_books(report, 1, weir)
    if emitted != 500 or written != 500:
        fail(f"the generations' books say {emitted} read and {written} written, not 500")


def case_invalid_edit_keeps_running():
    def reload(weir):
        write_pipeline(weir.dir, "v2", plugin="sett")
        weir.process.send_signal(signal.SIGHUP)
        at = weir.wait_for_line(re.escape(f"reload: {weir.pipeline}:7:13: error: stage 'stamp': unknown plugin "
                                          "'sett' (did you mean 'set'?)"))
        weir.wait_for_line(r"is not valid; the running pipeline goes on unchanged", at)
        return 0

    report, versions, weir = scenario(50, reload, 50)
    expect_version(versions, range(100), "v1")
    check_books(report, 0, weir)


def case_watch_reloads_on_write():
    def edit(weir):
        # A write in place (not a rename) is seen too.
        with open(weir.pipeline, "w") as f:
            f.write(PIPELINE.format(dir=weir.dir, version="v2", plugin="set"))
        weir.wait_for_line(r"reload 1: pipeline 'reload-test' running 3 stages")
        return 0

    report, versions, weir = scenario(50, edit, 50, "--watch")
    expect_version(versions, range(50, 100), "v2")
    check_books(report, 1, weir)


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: {sys.argv[0]} {{{'|'.join(CASES)}}} WEIR")
    WEIR = sys.argv[2]
    CASES[sys.argv[1]]()
