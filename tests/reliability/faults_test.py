#!/usr/bin/env python3
"""Fault injection: `weir run` with plugins that misbehave on purpose (the
test_fault plugins of tests/loader/libraries/faults.cpp), one ctest test per
case.

Usage: faults_test.py CASE WEIR FAULTS_PLUGIN_DIR MISSING_SYMBOL_PLUGIN_DIR

Each case checks a clear message naming the stage, the exit code, that the
process ends (a hang is a failure after the deadline), and that the books of
the report balance wherever the run ended by itself or by a stop. A case
waits for weir to say it runs, never for a length of time; the bounds on how
long a stop may take are generous (the machine is shared and noisy) but
finite, where today's code never ended at all.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import run_test  # noqa: E402  (the subprocess helpers of the weir run tests)
from run_test import RUNNING, books, check, fail  # noqa: E402

DRAIN = 0.3   # drain_timeout of the pipelines below, seconds
GRACE = 2.0   # PipelineSpec::stop_grace, documented in docs/reliability.md
SLACK = 30.0  # what a loaded machine may add; today's code never ended at all

THROWS = {
    "throw_std": r"test_fault: throw_std in {hook} of stage {stage}",
    "throw_weir": r"test_fault: throw_weir in {hook} of stage {stage}",
    "throw_int": r"an exception of type int \(not a std::exception\)",
    "throw_own": r"an exception of type \(anonymous namespace\)::OwnError \(not a std::exception\)",
}


def pipeline(folder, broken, source="{plugin: test_fault, config: {count: 20}}", extra=""):
    """ticks -> broken -> out, in a file (a sink `broken` has no `out`); returns its path."""
    out = "" if "kind: sink" in broken else "  out: {plugin: count, input: broken}\n"
    path = os.path.join(folder, "pipeline.yaml")
    with open(path, "w") as f:
        f.write(f"""pipeline: faults
plugin_path: ['{FAULTS}']
defaults: {{drain_timeout: {int(DRAIN * 1000)}ms}}
stages:
  ticks: {source}
  broken: {broken}
{out}{extra}""")
    return path


def weir(args, expect, report=None):
    result = subprocess.run([WEIR, "run", *args, "--no-progress"] + (["--report", report] if report else []),
                            capture_output=True, text=True, timeout=run_test.DEADLINE)
    check(result.returncode == expect, f"weir run {args} exited {result.returncode}, not {expect}",
          result.stdout, result.stderr)
    return result


def read_report(path):
    with open(path) as f:
        return json.load(f)


def case_throw_before_running():
    """Constructor and start(): exit 2, the stage named, nothing runs, and a
    report from an earlier run is left as it was (the file is replaced only
    by a whole new report)."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        for hook, message in (("constructor", r"stage 'broken' replica 0: processor plugin 'test_fault' \(.*libweir_test_faults\.so\): constructor threw: "),
                              ("start", r"stage 'broken' \(plugin 'test_fault'\) replica 0: start failed: ")):
            for fault, text in THROWS.items():
                with open(report, "w") as f:
                    f.write("previous\n")
                path = pipeline(folder, f"{{plugin: test_fault, input: ticks, config: {{fault: {fault}, hook: {hook}}}}}")
                result = weir([path], 2, report)
                pattern = message + text.format(hook=hook, stage="broken")
                check(re.search(pattern, result.stderr), f"{hook}/{fault}: no /{pattern}/", result.stderr)
                check(not RUNNING.search(result.stderr), f"{hook}/{fault}: the pipeline ran", result.stderr)
                with open(report) as f:
                    check(f.read() == "previous\n", f"{hook}/{fault}: the earlier report was touched")


def case_throw_in_work():
    """process() and write() throwing on every message: each message fails (or
    is retried, then dead-lettered), the run drains, exit 0; with
    --fail-on failed, exit 1."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        for fault, text in THROWS.items():
            path = pipeline(folder, f"{{plugin: test_fault, input: ticks, config: {{fault: {fault}}}, "
                                    f"on_error: {{retries: 2, backoff: 1ms}}}}")
            result = weir([path], 0, report)
            r = read_report(report)
            books(r, "drained")
            broken = r["stages"]["broken"]
            check(broken["received"] == 20 and broken["failed"] == 20, f"{fault}: 20 failed", json.dumps(broken))
            retried = 40 if fault == "throw_weir" else 0  # only a RetryableError is retried
            check(broken["retried"] == retried, f"{fault}: retried {broken['retried']}, not {retried}")
            check(re.search(r"\[broken\] \[warning\] message \d+ failed after \d attempt\(s\): " +
                            text.format(hook="work", stage="broken"), result.stderr), f"{fault}: no warning",
                  result.stderr)
            failing = weir([path, "--fail-on", "failed"], 1, report)
            check(re.search(r"--fail-on failed: stage 'broken' has 20 failed message", failing.stderr),
                  f"{fault}: --fail-on says nothing", failing.stderr)
            # A sink that throws, with a dead-letter stage.
            path = pipeline(folder, "{plugin: test_fault, kind: sink, input: ticks, "
                                    f"config: {{fault: {fault}}}, on_error: {{dead_letter: dead}}}}",
                            extra="  dead: {plugin: count}\n")
            weir([path, "--fail-on", "failed"], 0, report)
            r = read_report(report)
            books(r, "drained")
            check(r["stages"]["broken"]["dead_lettered"] == 20 and r["stages"]["dead"]["received"] == 20,
                  f"{fault}: 20 dead-lettered", json.dumps(r["stages"]))


def case_throw_in_source_flush_stop():
    """A source's run(), and flush() / stop() of any stage: the run fails, exit
    1, the report's errors name the stage, replica and hook."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        for fault, text in THROWS.items():
            cases = [
                (f"{{plugin: test_fault, config: {{count: 20, fault: {fault}, after: 5}}}}", "{plugin: test_fault, input: ticks}",
                 "stage 'ticks' replica 0: source failed: " + text.format(hook="work", stage="ticks")),
                (None, f"{{plugin: test_fault, input: ticks, config: {{fault: {fault}, hook: flush}}}}",
                 "stage 'broken' replica 0: flush failed: " + text.format(hook="flush", stage="broken")),
                (None, f"{{plugin: test_fault, input: ticks, config: {{fault: {fault}, hook: stop}}}}",
                 "stage 'broken' replica 0: stop failed: " + text.format(hook="stop", stage="broken")),
            ]
            for source, broken, message in cases:
                path = pipeline(folder, broken, **({"source": source} if source else {}))
                weir([path], 1, report)
                r = read_report(report)
                books(r, "failed")
                check(any(re.fullmatch(message, e) for e in r["errors"]), f"no /{message}/ in the errors",
                      json.dumps(r["errors"]))


def case_blocked_hooks():
    """process(), write(), flush() that never return, and a source that
    ignores its stop token and emit() returning false: one SIGINT, then
    drain_timeout, then the grace: the stuck replica is abandoned and named,
    exit 1, the report is written, the books balance."""
    cases = [
        ("processor in process()", "{plugin: test_fault, input: ticks, config: {fault: block, after: 3}}",
         "{plugin: test_fault}", "broken", "process"),
        ("sink in write()", "{plugin: test_fault, kind: sink, input: ticks, config: {fault: block, after: 3}}",
         "{plugin: test_fault}", "broken", "write"),
        ("sink in flush()", "{plugin: test_fault, kind: sink, input: ticks, config: {fault: block, hook: flush}}",
         "{plugin: test_fault, config: {count: 5}}", "broken", "flush"),
        ("source ignoring stop", "{plugin: test_fault, input: ticks}",
         "{plugin: test_fault, config: {ignore_stop: true}}", "ticks", "run"),
    ]
    for signals in (1, 2):
        for name, broken, source, stuck, hook in cases:
            with tempfile.TemporaryDirectory() as folder:
                path = pipeline(folder, broken, source=source)
                running = run_test.Running(path, "--report", "-", "--no-progress")
                running.wait_for_line(RUNNING)
                if hook != "run":  # the source ignoring stop blocks only once emit() says no
                    running.wait_for_line(re.compile(rf"\[{stuck}\] \[warning\] test_fault: blocking forever in "
                                                     + ("work" if hook in ("process", "write") else hook)))
                stopped = time.monotonic()
                running.process.send_signal(signal.SIGINT)
                if signals == 2:
                    running.wait_for_line(re.compile("stopping; draining"))
                    running.process.send_signal(signal.SIGINT)
                try:
                    code = running.process.wait(timeout=DRAIN + GRACE + SLACK)
                except subprocess.TimeoutExpired:
                    running.process.kill()
                    fail(f"{name}: still running {DRAIN + GRACE + SLACK}s after SIGINT", running.stderr())
                took = time.monotonic() - stopped
                report = json.loads(running.finish(expect=1))
                books(report, "forced")
                s = report["stages"][stuck]
                check(s.get("stuck") == 1, f"{name}: stage {stuck} not reported stuck", json.dumps(report, indent=1))
                pattern = rf"^stage '{stuck}' replica 0 \(plugin 'test_fault'\) is stuck in {hook}\(\) 2s after the stop was forced"
                check(any(re.search(pattern, e) for e in report["errors"]), f"{name}: no /{pattern}/",
                      json.dumps(report["errors"]))
                if hook in ("process", "write"):
                    check(s["abandoned_in_hand"] >= 1 and s["abandoned"] >= s["abandoned_in_hand"],
                          f"{name}: the message in hand is not counted abandoned", json.dumps(s))
                check(re.search(r"forcing the stop", running.stderr()), f"{name}: no word of the forced stop",
                      running.stderr())
                print(f"{name}, {signals} SIGINT(s): ended {took:.2f}s after the first")


def case_source_stuck_in_stop():
    """A source whose stop() (its commit and close) never returns, at the end
    of a run that drained on its own: the process still ends, stop_grace
    after stop() was called, exit 1, the source named in the report."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        path = pipeline(folder, "{plugin: test_fault, input: ticks}",
                        source="{plugin: test_fault, config: {count: 20, fault: block, hook: stop}}")
        began = time.monotonic()
        weir([path], 1, report)
        took = time.monotonic() - began
        r = read_report(report)
        books(r, "failed")
        check(r["stages"]["out"]["received"] == 20, "not every message reached the sink", json.dumps(r["stages"]))
        check(r["stages"]["ticks"].get("stuck") == 1, "the source is not reported stuck", json.dumps(r["stages"]))
        pattern = r"^stage 'ticks' replica 0 \(plugin 'test_fault'\) is stuck in stop\(\) 2s after it was called"
        check(any(re.search(pattern, e) for e in r["errors"]), f"no /{pattern}/", json.dumps(r["errors"]))
        print(f"a source stuck in stop(): ended {took:.2f}s after it began")


def crash_run(folder, broken, expect_signal, report_expected=True, source="{plugin: test_fault, config: {count: 100}}"):
    report = os.path.join(folder, "report.json")
    with open(report, "w") as f:
        f.write("previous\n")
    path = pipeline(folder, broken, source=source)
    result = subprocess.run([WEIR, "run", path, "--report", report, "--no-progress"], capture_output=True, text=True,
                            timeout=run_test.DEADLINE)
    check(result.returncode == -expect_signal,
          f"exited {result.returncode}, not killed by signal {expect_signal}", result.stderr)
    return result, read_report(report)


def case_crash():
    """SIGSEGV and SIGABRT in plugin code: a message naming the signal, the
    stage and the replica; a report with status crashed; the process ends by
    the signal (exit status 128+N in a shell)."""
    cases = [
        ("{plugin: test_fault, input: ticks, config: {fault: segv, after: 50}}", signal.SIGSEGV,
         r"SIGSEGV \(segmentation fault\) in stage 'broken' replica 0", True),
        ("{plugin: test_fault, kind: sink, input: ticks, config: {fault: abort, after: 10}}", signal.SIGABRT,
         r"SIGABRT \(aborted\) in stage 'broken' replica 0", True),
        ("{plugin: test_fault, input: ticks, config: {fault: abort, hook: start}}", signal.SIGABRT,
         r"SIGABRT \(aborted\) in stage 'broken' replica 0", True),
        ("{plugin: test_fault, input: ticks, config: {fault: segv, hook: constructor}}", signal.SIGSEGV,
         r"SIGSEGV \(segmentation fault\) in stage 'broken' replica 0", False),
    ]
    for broken, sig, message, has_stages in cases:
        with tempfile.TemporaryDirectory() as folder:
            result, report = crash_run(folder, broken, sig)
            check(re.search(r"^weir: fatal: " + message + "; plugins run inside the weir process", result.stderr, re.M),
                  f"no fatal message /{message}/", result.stderr)
            check(report["status"] == "crashed", "status not crashed", json.dumps(report))
            check(re.fullmatch(message, report["errors"][0]), "the report's first error does not name the crash",
                  json.dumps(report["errors"]))
            check(("broken" in report["stages"]) == has_stages, "stages in the report", json.dumps(report))
            if has_stages and "after: 50" in broken:
                check(report["stages"]["broken"]["emitted"] == 50, "the counts up to the crash",
                      json.dumps(report["stages"]["broken"]))


def case_missing_symbol():
    """A library that cannot be loaded (a symbol nobody defines): exit 2, the
    file, the symbol and the stage named, nothing runs."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pipeline.yaml")
        with open(path, "w") as f:
            f.write(f"""pipeline: missing
plugin_path: ['{MISSING}']
stages:
  ticks: {{plugin: generate, config: {{count: 3}}}}
  broken: {{plugin: test_missing, input: ticks}}
  out: {{plugin: count, input: broken}}
""")
        result = weir([path], 2)
        for pattern in (r"libweir_test_missing_symbol\.so: error: missing symbol: undefined symbol weir_test_function_nobody_defines\(\)",
                        r"pipeline\.yaml:5:\d+: error: stage 'broken': unknown plugin 'test_missing'"):
            check(re.search(pattern, result.stderr), f"no /{pattern}/", result.stderr)
        check(not RUNNING.search(result.stderr), "the pipeline ran", result.stderr)


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: faults_test.py {{{'|'.join(CASES)}}} WEIR FAULTS_DIR MISSING_DIR")
    WEIR, FAULTS, MISSING = sys.argv[2], os.path.abspath(sys.argv[3]), os.path.abspath(sys.argv[4])
    run_test.WEIR = WEIR
    CASES[sys.argv[1]]()
    print(f"ok: {sys.argv[1]}")
