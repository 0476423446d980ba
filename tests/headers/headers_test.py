#!/usr/bin/env python3
"""Compiles one generated translation unit per header (tests/headers/CMakeLists.txt)
and checks what each pulls in.

Each TU argument is KIND:PATH:
  clear:    must compile, and must not include anything from weir/detail/
            (no ring, wait queue, parking primitive, <immintrin.h>, futex);
  channel:  must compile (it may use weir/detail/);
  internal: a weir/detail/ header included directly: must NOT compile, and
            the error must say that weir/detail/ is internal.
The compiler's -H output lists every header a TU includes, transitively.
Every failure is reported, then the exit status is 1.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys


def compile_tu(compiler, args, path):
    proc = subprocess.run([compiler, *args, "-fsyntax-only", "-H", "-x", "c++", path],
                          capture_output=True, text=True, timeout=300)
    # -H lines: one or more dots, a space, the header's path.
    included = [line.lstrip(".").strip() for line in proc.stderr.splitlines()
                if line.startswith(".") and " " in line and line.split(" ", 1)[0].strip(".") == ""]
    # GCC ends -H output with a list of headers that lack include guards.
    diagnostics = proc.stderr.split("Multiple include guards may be useful for:")[0]
    messages = [line for line in diagnostics.splitlines() if not line.startswith(".")]
    return proc.returncode, included, messages


def check(compiler, args, kind, path):
    """Returns a list of problems (empty: fine)."""
    name = os.path.basename(path)
    rc, included, messages = compile_tu(compiler, args, path)
    with open(path) as f:
        first = f.readline().strip()
    what = f"{name} ({first})"
    if kind == "internal":
        if rc == 0:
            return [f"{what}: compiled, but a weir/detail/ header included from outside weir must refuse"]
        if not any("internal to weir" in m for m in messages):
            return [f"{what}: failed, but not with the 'internal to weir' error:\n  " + "\n  ".join(messages[:20])]
        return []
    problems = []
    if rc != 0:
        problems.append(f"{what}: does not compile alone:\n  " + "\n  ".join(messages[:40]))
    if kind == "clear":
        detail = sorted({h for h in included if "/weir/detail/" in h or h.endswith(("immintrin.h", "linux/futex.h"))})
        if detail:
            problems.append(f"{what}: pulls in the channel machinery it does not use:\n  " + "\n  ".join(detail))
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compiler", required=True)
    parser.add_argument("--args", required=True, help="file of compiler arguments, one a line")
    parser.add_argument("tus", nargs="+", help="KIND:PATH")
    opts = parser.parse_args()
    with open(opts.args) as f:
        args = [line.strip() for line in f if line.strip()]
    tus = [tu.split(":", 1) for tu in opts.tus]
    for kind, _ in tus:
        if kind not in ("clear", "channel", "internal"):
            sys.exit(f"headers_test: unknown kind '{kind}'")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda tu: (tu, check(opts.compiler, args, *tu)), tus))
    failures = 0
    for (kind, path), problems in results:
        status = "FAIL" if problems else "ok"
        print(f"{status:4} {kind:8} {os.path.basename(path)}")
        for problem in problems:
            print("     " + problem.replace("\n", "\n     "))
        failures += bool(problems)
    counts = {k: sum(1 for kind, _ in tus if kind == k) for k in ("clear", "channel", "internal")}
    print(f"{len(tus)} headers ({counts['clear']} clear of weir/detail/, {counts['channel']} channel headers, "
          f"{counts['internal']} internal): {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
