#!/usr/bin/env python3
"""Stops at random moments: SIGINT at a random moment of a run with fan-out,
priority lanes, retries and dead letters must drain (exit 0, nothing
abandoned, the books balanced, every output stage holding what its input
sent); a second SIGINT while it drains must force (exit 1, the messages
still queued counted as abandoned, the books balanced). The moments are drawn
afresh each run; the seed is printed, and WEIR_SHUTDOWN_SEED repeats a run.

Usage: shutdown_test.py once|twice WEIR RUNS
"""

import json
import os
import random
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import run_test  # noqa: E402
from run_test import RUNNING, books, check  # noqa: E402

DRAIN_TIMEOUT = 20  # seconds: far more than a drain takes, so a timeout is a failure, not a forced run

# jobs (2 replicas, urgent and normal messages) -> work (3 replicas, two
# lanes, a retryable failure on a share of messages, retried, then
# dead-lettered) -> fan-out to `slow` (a slow consumer) and `tally`, plus
# `work.unmatched` of a conditional consumer, and the dead letters to `dead`.
PIPELINE = """pipeline: shutdown-{name}
defaults: {{drain_timeout: {drain}s}}
stages:
  jobs:
    plugin: generate
    replicas: 2
    config:
      count: 0
      templates:
        - {{payload: 'urgent {{seq}}', priority: 5, attributes: {{kind: report}}}}
        - {{payload: 'normal {{seq}}', attributes: {{kind: email}}}}
        - {{payload: 'normal {{seq}}', attributes: {{kind: email}}}}
  work:
    plugin: fail
    input: jobs
    replicas: 3
    capacity: 16
    lanes:
      - {{name: urgent, when: 'priority > 0'}}
      - {{name: normal}}
    config: {{share: 0.2, error: retryable, times: {times}}}
    on_error: {{retries: 2, backoff: 1ms, dead_letter: dead}}
  slow:
    plugin: simulate_work
    input: work
    capacity: {slow_capacity}
    config: {{default_duration: {slow_duration}}}
  reports:
    plugin: count
    input: work
    when: 'kind == "report"'
  others:
    plugin: count
    input: work.unmatched
  tally:
    plugin: count
    input: work
  dead:
    plugin: count
"""


def outputs_match(report):
    s = report["stages"]
    work = s["work"]
    for consumer in ("slow", "tally"):
        check(s[consumer]["offered"] == work["emitted"],
              f"{consumer} did not get every message work emitted", json.dumps(s, indent=1))
    check(s["reports"]["offered"] + s["others"]["offered"] == work["emitted"], "routing lost messages",
          json.dumps(s, indent=1))
    check(s["dead"]["offered"] == work["dead_lettered"], "dead letters lost", json.dumps(s, indent=1))


def once(folder, rng, run):
    """One SIGINT at a random moment: drained, exit 0, within drain_timeout."""
    running = run_test.Running(os.path.join(folder, "once.yaml"), "--report", "-", "--no-progress")
    running.wait_for_line(RUNNING)
    delay = rng.uniform(0, 0.4)
    time.sleep(delay)
    stopped = time.monotonic()
    running.process.send_signal(signal.SIGINT)
    report = json.loads(running.finish(expect=0))
    took = time.monotonic() - stopped
    books(report, "drained")
    for name, stage in report["stages"].items():
        check(stage["abandoned"] == 0, f"run {run}: {name} abandoned {stage['abandoned']}", json.dumps(report))
    outputs_match(report)
    check(took < DRAIN_TIMEOUT, f"run {run}: took {took:.1f}s, over drain_timeout")
    return took, report["stages"]["tally"]["received"]


def twice(folder, rng, run):
    """SIGINT, then a second one while the slow consumer drains: forced, exit
    1, what was queued counted as abandoned, the books balanced."""
    running = run_test.Running(os.path.join(folder, "twice.yaml"), "--report", "-", "--no-progress")
    running.wait_for_line(RUNNING)
    time.sleep(rng.uniform(0.05, 0.4))  # the slow consumer's channel is full by now (as good as always)
    stopped = time.monotonic()
    running.process.send_signal(signal.SIGINT)
    running.wait_for_line(re.compile("stopping; draining"))
    running.process.send_signal(signal.SIGINT)
    report = json.loads(running.finish(expect=1))
    took = time.monotonic() - stopped
    books(report, "forced")
    abandoned = sum(stage["abandoned"] for stage in report["stages"].values())
    check(abandoned > 0, f"run {run}: a forced stop abandoned nothing", json.dumps(report))
    check(sum(e["abandoned"] for e in report["edges"]) + sum(s["abandoned_in_hand"] for s in report["stages"].values())
          == abandoned, "abandoned per channel and in hand add up to the stages'", json.dumps(report))
    outputs_match(report)
    return took, abandoned


def main():
    mode, runs = sys.argv[1], int(sys.argv[3])
    seed = int(os.environ.get("WEIR_SHUTDOWN_SEED", random.randrange(1 << 30)))
    print(f"seed {seed} (WEIR_SHUTDOWN_SEED={seed} repeats these moments)")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "once.yaml"), "w") as f:
            f.write(PIPELINE.format(name="once", drain=DRAIN_TIMEOUT, times=1, slow_capacity=16,
                                    slow_duration="200us"))
        with open(os.path.join(folder, "twice.yaml"), "w") as f:
            f.write(PIPELINE.format(name="twice", drain=DRAIN_TIMEOUT, times=0, slow_capacity=256,
                                    slow_duration="5ms"))
        results = [(once if mode == "once" else twice)(folder, rng, run) for run in range(runs)]
    took = sorted(t for t, _ in results)
    print(f"{runs} runs, SIGINT {'once' if mode == 'once' else 'twice'}: time from the first SIGINT to exit "
          f"median {took[len(took) // 2]:.3f}s, max {took[-1]:.3f}s; "
          f"{'messages at the sink' if mode == 'once' else 'abandoned'} median "
          f"{sorted(n for _, n in results)[len(results) // 2]}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("once", "twice"):
        raise SystemExit("usage: shutdown_test.py once|twice WEIR RUNS")
    run_test.WEIR = sys.argv[2]
    main()
