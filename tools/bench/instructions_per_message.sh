#!/usr/bin/env bash
# tools/bench/instructions_per_message.sh [BUILD_DIR] [WORKLOAD...]: the
# instructions each message costs in pipeline_bench's workloads, counted by
# callgrind over every thread, which the machine's load does not change (so
# it can compare two commits on a busy machine, where timings cannot). Each
# workload runs twice, at 100,000 and at 300,000 messages; the difference
# divided by 200,000 cancels start-up and shutdown. Needs valgrind.
# Defaults: build/release; yaml code tbb generate-null.
set -euo pipefail
build="${1:-build/release}"
[ $# -gt 0 ] && shift
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(yaml code tbb generate-null)
bench="$build/bin/pipeline_bench"
[ -x "$bench" ] || { echo "no $bench: build the release preset first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

instructions() {  # WORKLOAD MESSAGES: total instructions of one child run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --child "$1" --messages "$2" 2>&1 |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}

printf '%-14s %12s\n' workload instr/msg
for workload in "${workloads[@]}"; do
  small=$(instructions "$workload" 100000)
  large=$(instructions "$workload" 300000)
  printf '%-14s %12d\n' "$workload" $(((large - small) / 200000))
done
