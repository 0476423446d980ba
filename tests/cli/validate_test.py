#!/usr/bin/env python3
"""`weir validate` and `weir run` on warnings, --json, --strict, --max-memory,
environment variables and --set defaults, one case per ctest test.

Usage: validate_test.py CASE WEIR PIPELINES_DIR
"""

import json
import os
import subprocess
import sys

DEADLINE = 120  # seconds; only ends a case that hangs


def fail(message, *outputs):
    for output in outputs:
        sys.stderr.write(f"---\n{output}\n")
    raise SystemExit(f"FAIL: {message}")


def weir(*args, expect, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_TEST_")}
    environment.update(env or {})
    result = subprocess.run([WEIR, *args], capture_output=True, text=True, timeout=DEADLINE, env=environment)
    if result.returncode != expect:
        fail(f"weir {' '.join(args)} exited {result.returncode}, not {expect}", result.stdout, result.stderr)
    return result


def pipeline(name):
    return os.path.join(PIPELINES, name)


WARNING = ("{}:3:3: warning: stage 'jobs': every stage that reads it has a when: ('reports') and none reads "
           "'jobs.unmatched': a message that matches no condition is only counted as unrouted "
           "(add a stage with input: jobs.unmatched to catch them)")


def case_warnings_exit_0():
    file = pipeline("warned.yaml")
    result = weir("validate", file, expect=0)
    if WARNING.format(file) not in result.stderr.splitlines():
        fail("the warning is not on stderr", result.stderr)
    if not result.stdout.startswith(f"{file}: OK: pipeline 'warned'"):
        fail("no summary", result.stdout)


def case_strict():
    file = pipeline("warned.yaml")
    result = weir("validate", file, "--strict", expect=2)
    if WARNING.format(file).replace(": warning: ", ": error: ") not in result.stderr.splitlines():
        fail("--strict does not report the warning as an error", result.stderr)
    weir("run", file, "--strict", "--no-progress", "--report", "-", expect=2)


def case_json():
    file = pipeline("warned.yaml")
    result = weir("validate", file, "--json", "--max-memory", "1MiB", expect=0)
    document = json.loads(result.stdout)
    if document["file"] != file or document["valid"] is not True or document["errors"] != 0 or document["warnings"] != 2:
        fail("unexpected summary", result.stdout)
    for d in document["diagnostics"]:
        if set(d) != {"file", "line", "column", "severity", "message", "hint"} or d["severity"] != "warning":
            fail("unexpected diagnostic", json.dumps(d))
    memory = document["diagnostics"][1]
    if "the channels can hold 1024 messages, 64.0 MiB at 64.0 KiB each, above --max-memory 1.0 MiB" not in memory["message"]:
        fail("no memory warning", result.stdout)
    broken = weir("validate", pipeline("environment.yaml"), "--json", "--strict", expect=2)
    document = json.loads(broken.stdout)
    if document["valid"] is not False or document["errors"] != 1:
        fail("an error is not in the JSON", broken.stdout)
    d = document["diagnostics"][0]
    if (d["line"], d["column"], d["severity"]) != (3, 13, "error"):
        fail("the error is not at the $", broken.stdout)
    weir("validate", file, "--max-memory", "10MB", expect=2)  # not a size: a bad command line


def case_run_prints_warnings():
    file = pipeline("warned.yaml")
    result = weir("run", file, "--no-progress", "--report", "-", expect=0)
    if WARNING.format(file) not in result.stderr.splitlines():
        fail("weir run does not print the warning", result.stderr)
    report = json.loads(result.stdout)
    if report["status"] != "drained" or report["stages"]["jobs"]["emitted"] != 5:
        fail("the run did not go ahead", result.stdout)


def case_environment():
    file = pipeline("environment.yaml")
    result = weir("validate", file, expect=2)
    expected = (f"{file}:3:13: error: environment variable 'WEIR_TEST_CAPACITY' is not set "
                "(set it, or give a default: ${WEIR_TEST_CAPACITY:-VALUE})")
    if expected not in result.stderr.splitlines():
        fail("no error at the $", result.stderr)
    weir("run", file, "--no-progress", expect=2)
    result = weir("run", file, "--no-progress", "--report", "-", expect=0,
                  env={"WEIR_TEST_CAPACITY": "16", "WEIR_TEST_COUNT": "7"})
    report = json.loads(result.stdout)
    if report["stages"]["out"]["received"] != 7 or report["edges"][0]["capacity"] != 16:
        fail("the variables were not used", result.stdout)


def case_set_defaults():
    file = pipeline("environment.yaml")
    result = weir("validate", file, "--set", "defaults.capacity=0", expect=2)
    expected = "--set defaults.capacity=0: error: defaults.capacity must be a whole number of at least 1, found '0'"
    if expected not in result.stderr.splitlines():
        fail("the override's problem is not named by it", result.stderr)
    result = weir("run", file, "--no-progress", "--report", "-", "--set", "defaults.capacity=8", "--set",
                  "stages.jobs.config.count=4", expect=0)
    report = json.loads(result.stdout)
    if report["stages"]["out"]["received"] != 4 or report["edges"][0]["capacity"] != 8:
        fail("the overrides were not applied", result.stdout)


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: validate_test.py {{{'|'.join(CASES)}}} WEIR PIPELINES_DIR")
    WEIR, PIPELINES = sys.argv[2], sys.argv[3]
    CASES[sys.argv[1]]()
    print(f"ok: {sys.argv[1]}")
