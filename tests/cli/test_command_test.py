#!/usr/bin/env python3
"""`weir test`: a pipeline's unit tests, one case per ctest test.

Usage: test_command_test.py CASE WEIR TESTS_DIR REPOSITORY
"""

import os
import re
import subprocess
import sys

DEADLINE = 120  # seconds; only ends a case that hangs


def fail(message, *outputs):
    for output in outputs:
        sys.stderr.write(f"---\n{output}\n")
    raise SystemExit(f"FAIL: {message}")


def weir(*args, expect):
    result = subprocess.run([WEIR, *args], capture_output=True, text=True, timeout=DEADLINE, cwd=REPOSITORY)
    if result.returncode != expect:
        fail(f"weir {' '.join(args)} exited {result.returncode}, not {expect}", result.stdout, result.stderr)
    return result


def expect_lines(output, lines, where):
    for line in lines:
        if line not in output.splitlines():
            fail(f"{where}: no line {line!r}", output)


def case_failing_test_exits_1():
    file = os.path.join(TESTS, "failing.yaml")
    result = weir("test", file, expect=1)
    expect_lines(result.stdout, [
        "test 'stamps the copy': passed",
        "  ok   'stamp': 1 message arrived, as expected",
        "  ok   'stamp': the message met 'copy == \"one\"'",
        f"test 'expects what the stage does not do': FAILED at {file}:26:5",
        "  FAIL 'out': expected 3 messages, 2 arrived",
        "  arrived at 'out': 2",
        f"{file}: 2 tests, 1 passed, 1 failed",
    ], "weir test failing.yaml")
    # What did not meet the condition is shown, with the message itself.
    if not re.search(r"^  FAIL 'out': 1 of 2 messages did not meet 'copy == \"one\"'; the first, message [12] of 2: "
                     r"\{\"payload\":\"two\",\"attributes\":\{\"copy\":\"two\"\}\}$", result.stdout, re.M):
        fail("the failed condition does not name the message that missed it", result.stdout)
    if '    {"payload":"two","attributes":{"copy":"two"}}' not in result.stdout.splitlines():
        fail("what arrived is not listed", result.stdout)


def case_invalid_tests_exit_2():
    file = os.path.join(TESTS, "broken-tests.yaml")
    expected = [
        f"{file}:18:21: error: test 'broken': insert_at: unknown stage 'stmp' (did you mean 'stamp'?)",
        f"{file}:19:21: error: test 'broken': insert_at: 'out' is a sink (weir test replaces sinks by collectors: "
        "insert at a source or a processor)",
        f"{file}:22:16: error: test 'broken': count must be a whole number of at least 0, found 'many'",
        f"{file}:23:31: error: test 'broken': condition: expected a value after '==', found the end of the expression",
        f"{file}:24:9: error: unknown key 'colour' in test 'broken': an output (known keys: extract_from, conditions "
        "or count)",
    ]
    for command in ("validate", "test", "run"):
        result = weir(command, file, expect=2)
        expect_lines(result.stderr, expected, f"weir {command}")


def case_examples_pass():
    for name in ("log-ingest", "fan-in", "job-queue"):
        file = os.path.join("pipelines", f"{name}.yaml")
        result = weir("test", file, expect=0)
        if not re.search(r"^" + re.escape(file) + r": (\d+) tests?, \1 passed, 0 failed$", result.stdout, re.M):
            fail(f"{file}: no summary of passed tests", result.stdout)


def case_side_file():
    side = os.path.join(TESTS, "fan-in.tests.yaml")
    result = weir("test", "pipelines/fan-in.yaml", "--tests", side, expect=0)
    expect_lines(result.stdout, [
        "test 'a web event keeps its channel in the route': passed",
        "  ok   'mobile': no output, as expected",
        "pipelines/fan-in.yaml: 2 tests, 2 passed, 0 failed",
    ], "weir test --tests")


def case_timeout_fails():
    file = os.path.join(TESTS, "timeout.yaml")
    result = weir("test", file, expect=1)
    expect_lines(result.stdout, [
        f"test 'five messages at one a second': FAILED at {file}:17:5",
        "  FAIL the pipeline did not drain within the timeout (0.5s); stopped it",
        f"{file}: 1 test, 0 passed, 1 failed",
    ], "weir test timeout.yaml")


def case_no_tests_exit_2():
    result = weir("test", "pipelines/priority.yaml", expect=2)
    if "no tests" not in result.stderr:
        fail("no word on the missing tests", result.stderr)


CASES = {name[len("case_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in CASES:
        raise SystemExit(f"usage: {sys.argv[0]} {{{'|'.join(CASES)}}} WEIR TESTS_DIR REPOSITORY")
    WEIR, TESTS, REPOSITORY = sys.argv[2], os.path.abspath(sys.argv[3]), sys.argv[4]
    CASES[sys.argv[1]]()
