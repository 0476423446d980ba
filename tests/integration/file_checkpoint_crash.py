#!/usr/bin/env python3
"""At-least-once through a crash: the file source's checkpoint.

usage: file_checkpoint_crash.py WEIR kill9|sigint2 [LINES]

Writes LINES (default 1,000,000) numbered lines, and runs
  file source (checkpoint, max_in_flight) -> filter x2 replicas -> file sink
five times, each time stopped at a random moment: `kill -9`, or two SIGINTs
(a forced stop). Each restart uses the same checkpoint; a last run reads to
the end and must exit 0. Then every line must be in the output, and the
lines written twice at most what was in flight at each stop: max_in_flight,
which bounds what the source reads ahead of its saved checkpoint. A line cut
in half by kill -9 (the sink's write interrupted) is counted as torn; its
acknowledgement never fired, so the line is read again.

Prints the figures. Every wait is bounded; the process is killed whatever
happens.
"""
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

STOPS = 5
CAPACITY = 2048
BATCH = 64
# What can be in flight: two channels, a batch in the hands of each stage.
IN_FLIGHT = CAPACITY * 2 + BATCH * 2
RUN_LIMIT_S = 300


def pipeline_yaml(folder: str) -> str:
    return f"""
pipeline: checkpoint-crash
defaults: {{capacity: {CAPACITY}, drain_timeout: 30s}}
stages:
  lines:
    plugin: file
    config: {{path: {folder}/input.txt, checkpoint: {folder}/state/offsets, max_in_flight: {IN_FLIGHT}}}
  keep:
    plugin: filter
    input: lines
    replicas: 2
    config: {{when: 'payload != ""'}}
  out:
    plugin: file
    input: keep
    config: {{path: {folder}/output.txt}}
"""


def start(weir: str, pipeline: str, report: str) -> subprocess.Popen:
    return subprocess.Popen([weir, "run", pipeline, "--no-progress", "--report", report, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=RUN_LIMIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        raise SystemExit(f"weir did not end within {RUN_LIMIT_S}s:\n{err}")
    return process.returncode, err


def main() -> int:
    weir, mode = sys.argv[1], sys.argv[2]
    total = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    seed = int(os.environ.get("WEIR_TEST_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"mode {mode}, {total} lines, seed {seed} (set WEIR_TEST_SEED to repeat)")
    with tempfile.TemporaryDirectory(prefix="weir-ckpt-") as folder:
        with open(f"{folder}/input.txt", "w") as out:
            out.writelines(f"{n:07d}\n" for n in range(total))
        pipeline = f"{folder}/pipeline.yaml"
        with open(pipeline, "w") as out:
            out.write(pipeline_yaml(folder))

        # How long an uninterrupted run takes (in a separate folder's worth of
        # state: its output and checkpoint are removed after), so the stops
        # land inside a run.
        began = time.monotonic()
        code, err = finish(start(weir, pipeline, f"{folder}/report-probe.json"))
        whole = time.monotonic() - began
        if code != 0:
            raise SystemExit(f"the uninterrupted run exited {code}:\n{err}")
        os.remove(f"{folder}/output.txt")
        os.remove(f"{folder}/state/offsets")
        print(f"an uninterrupted run takes {whole:.2f}s")

        stopped_mid_run = 0
        for stop in range(STOPS):
            process = start(weir, pipeline, f"{folder}/report-{stop}.json")
            # One random moment within the run's expected length: a single
            # bounded sleep, not a wait for a condition.
            # Each run gets about a sixth of the work's time, so the stops
            # land inside runs.
            time.sleep(rng.uniform(0.3, 0.3 + whole / (STOPS + 1)))
            if process.poll() is None:
                stopped_mid_run += 1
                if mode == "kill9":
                    process.send_signal(signal.SIGKILL)
                else:
                    process.send_signal(signal.SIGINT)
                    # Two signals sent at once may arrive as one (they do not queue).
                    # Soon after: the drain of ~4,000 lines takes well under 50 ms.
                    time.sleep(0.005)
                    process.send_signal(signal.SIGINT)
            code, err = finish(process)
            print(f"stop {stop + 1}: exit {code}")
            if code == -signal.SIGINT:
                # weir had not yet blocked SIGINT (it was loading): the default
                # action ended it before anything ran.
                print(f"stop {stop + 1}: SIGINT arrived while weir was starting")
            elif mode == "sigint2" and code not in (0, 1):
                raise SystemExit(f"two SIGINTs: exit {code}, expected 1 (forced) or 0 (had finished):\n{err}")

        code, err = finish(start(weir, pipeline, f"{folder}/report-final.json"))
        if code != 0:
            raise SystemExit(f"the final run exited {code}:\n{err}")
        with open(f"{folder}/report-final.json") as f:
            report = json.load(f)
        source = report["stages"]["lines"]

        seen = collections.Counter()
        torn = 0
        with open(f"{folder}/output.txt") as f:
            for line in f:
                text = line.rstrip("\n")
                if len(text) == 7 and text.isdigit():
                    seen[int(text)] += 1
                else:
                    torn += 1
        missing = [n for n in range(total) if seen[n] == 0]
        duplicated = sum(count - 1 for count in seen.values() if count > 1)
        bound = stopped_mid_run * IN_FLIGHT
        print(f"lines {total}, written {sum(seen.values())}, missing {len(missing)}, duplicated {duplicated} "
              f"(bound {stopped_mid_run} stops x {IN_FLIGHT} in flight = {bound}), torn {torn}; "
              f"final run: acked {source.get('acked', 0)}, nacked {source.get('nacked', 0)}, "
              f"pending_acks {source.get('pending_acks', 0)}, balanced {report['balanced']}")
        ok = True
        if missing:
            print(f"FAIL: {len(missing)} lines lost, first {missing[:10]}")
            ok = False
        if duplicated > bound:
            print(f"FAIL: {duplicated} duplicates exceed the bound {bound}")
            ok = False
        if stopped_mid_run < STOPS:
            print(f"note: {STOPS - stopped_mid_run} run(s) had ended before their stop")
        if stopped_mid_run == 0:
            print("FAIL: no stop landed inside a run")
            ok = False
        if source.get("pending_acks", 0) != 0 or not report["balanced"]:
            print("FAIL: the final run left acknowledgements pending or its books do not balance")
            ok = False
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
