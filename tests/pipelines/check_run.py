#!/usr/bin/env python3
"""Runs `weir run PIPELINE --report -` and checks the books from the report.

usage: check_run.py WEIR PIPELINE [--expect STAGE.KEY=VALUE]... [--status drained]
Every stage and edge must balance; each --expect names a report value.
Exits non-zero, saying why, when anything is off.
"""
import json
import subprocess
import sys


def main() -> int:
    weir, pipeline, *rest = sys.argv[1:]
    expectations, status = [], "drained"
    while rest:
        flag, value, *rest = rest
        if flag == "--expect":
            expectations.append(value)
        elif flag == "--status":
            status = value
        else:
            print(f"unknown argument {flag}", file=sys.stderr)
            return 2
    run = subprocess.run([weir, "run", pipeline, "--report", "-"], capture_output=True, text=True, timeout=300)
    sys.stderr.write(run.stderr)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError as error:
        print(f"stdout is not the JSON report alone ({error}):\n{run.stdout}", file=sys.stderr)
        return 1
    problems = []
    if report["status"] != status:
        problems.append(f"status is {report['status']}, expected {status}")
    expected_exit = 0 if status == "drained" else 1
    if run.returncode != expected_exit:
        problems.append(f"exit code {run.returncode}, expected {expected_exit}")
    if not report["balanced"]:
        problems.append("the report says the books do not balance")
    for name, s in report["stages"].items():
        if s["kind"] == "source":
            continue
        if s["offered"] != s["received"] + s["dropped"] + s["abandoned"]:
            problems.append(f"stage {name}: offered {s['offered']} != received + dropped + abandoned")
        if s["received"] != s["emitted"] + s["filtered"] + s["dead_lettered"] + s["failed"]:
            problems.append(f"stage {name}: received {s['received']} != emitted + filtered + dead_lettered + failed")
    for e in report["edges"]:
        if e["sent"] != e["delivered"] + e["dropped"] + e["abandoned"]:
            problems.append(f"edge {e['from']} -> {e['to']}: sent != delivered + dropped + abandoned")
    for expectation in expectations:
        path, want = expectation.split("=", 1)
        stage, key = path.rsplit(".", 1)
        got = report["stages"].get(stage, {}).get(key)
        if str(got) != want:
            problems.append(f"{path} is {got}, expected {want}")
    for problem in problems:
        print(f"{pipeline}: {problem}", file=sys.stderr)
    if problems:
        print(json.dumps(report, indent=2), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
