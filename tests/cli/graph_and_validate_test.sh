#!/bin/sh
# weir validate and weir graph on a good pipeline that uses the built-in
# plugins: exit 0, the one-line summary, and every kind of edge in both formats.
# Usage: graph_and_validate_test.sh WEIR PIPELINE
set -u
weir=$1
pipeline=$2
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
# expect_lines WHAT OUTPUT LINE...: each LINE is a whole line of OUTPUT.
expect_lines() {
  what=$1 output=$2
  shift 2
  for line in "$@"; do
    printf '%s\n' "$output" | grep -qxF -- "$line" || fail "$what lacks: $line"
  done
}

out=$("$weir" validate "$pipeline") || fail "validate exited $?"
echo "$out"
[ "$out" = "$pipeline: OK: pipeline 'graph-shapes', 5 stages (1 source, 1 processor, 3 sinks), plugins: generate, null, simulate_work" ] ||
  fail "unexpected summary"

dot=$("$weir" graph "$pipeline") || fail "graph exited $?"
echo "$dot"
expect_lines dot "$dot" \
  '  "jobs" [label="jobs\ngenerate (source) x2", shape=ellipse];' \
  '  "workers" [label="workers\nsimulate_work (processor)\ncapacity 16, block\nlanes (strict): urgent [priority > 5]; normal\nretries 2", shape=box];' \
  '  "jobs" -> "workers";' \
  '  "workers" -> "reports" [label="kind == \"report\""];' \
  '  "workers" -> "rest" [label="unmatched", style=dashed];' \
  '  "workers" -> "failed" [label="dead letter", style=dotted, color=red];'

mermaid=$("$weir" graph "$pipeline" --format mermaid) || fail "graph --format mermaid exited $?"
echo "$mermaid"
expect_lines mermaid "$mermaid" \
  'flowchart LR' \
  '  s0(["jobs<br/>generate (source) x2"])' \
  '  s1 -->|"kind == #quot;report#quot;"| s2' \
  '  s1 -.->|unmatched| s3' \
  '  s1 -.->|dead letter| s4'

"$weir" graph "$pipeline" --format svg >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown --format must exit 2"
echo PASS
