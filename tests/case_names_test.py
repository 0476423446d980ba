#!/usr/bin/env python3
"""case_names_test.py BINARY...: every Catch2 test case name survives ctest's
discovery. Catch2 v2 passes each name through a CMake list, so a ';' splits it
and a '\\' or '[' can escape or mangle it: the pieces match no case and Catch
reports "No test cases matched" and passes, having run nothing."""

import subprocess
import sys

bad = []
cases = 0
for binary in sys.argv[1:]:
    listed = subprocess.run([binary, "--list-test-names-only"], capture_output=True, text=True, timeout=120)
    if listed.returncode < 0 or not listed.stdout.strip():
        bad.append(f"{binary}: listed no test cases (exit {listed.returncode}): {listed.stderr.strip()}")
        continue
    for name in listed.stdout.splitlines():
        if not name.strip():
            continue
        cases += 1
        if any(c in name for c in ";\\[]"):
            bad.append(f"{binary}: {name!r} holds ';', '\\\\', '[' or ']', which ctest's discovery mangles")
for line in bad:
    print("FAIL:", line)
print(f"{cases} test case names in {len(sys.argv) - 1} binaries; {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
