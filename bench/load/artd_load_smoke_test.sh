#!/usr/bin/env bash
# Runs artd_load for about 3 seconds against an artd it spawns and checks that every mode reports a
# non-zero throughput, so that CI notices when the load tool (or the flow it drives) breaks.
set -euo pipefail
load="$1"
artd="$2"
output="$("$load" --artd-binary "$artd" --mode all --concurrency 4 --groups 4 --members-per-group 2 \
  --warmup-seconds 0.2 --duration-seconds 1 --max-operations 100000)"
echo "$output"
for mode in floor commits posts; do
  # A table row: "| mode | ops | window s | ops/s | ..." with a non-zero operation count.
  if ! grep -Eq "^\| $mode \| [1-9][0-9]* \| [0-9.]+( \(prepared work used up\))? \| [0-9]+ \|" <<<"$output"; then
    echo "FAIL: no non-zero throughput for $mode" >&2
    exit 1
  fi
done
# Posts and commits get a CPU budget from the floor (the last two columns are numbers, not "-").
for mode in commits posts; do
  if ! grep -Eq "^\| $mode \|.* \| [0-9]+ \| [0-9]+ \|$" <<<"$output"; then
    echo "FAIL: no CPU per operation and budget for $mode" >&2
    exit 1
  fi
done
# A window ends when a client has used up its prepared requests, and the table says so.
output="$("$load" --artd-binary "$artd" --mode commits --concurrency 2 --prepared-commits 30 --max-operations 2000 \
  --warmup-seconds 0 --duration-seconds 60)"
if ! grep -Eq "^\| commits \| [1-9][0-9]* \| [0-9.]+ \(prepared work used up\) \|" <<<"$output"; then
  echo "FAIL: a commits window that ran out of prepared commits did not end early and say so: $output" >&2
  exit 1
fi
json="$("$load" --artd-binary "$artd" --mode floor --concurrency 2 --warmup-seconds 0 --duration-seconds 0.3 --json 2>/dev/null)"
if ! grep -q '"mode": "floor", "operations": [1-9]' <<<"$json"; then
  echo "FAIL: --json did not report the floor: $json" >&2
  exit 1
fi
# Only loopback targets are accepted.
if "$load" --target 192.0.2.1:50051 --api-key x 2>/dev/null; then
  echo "FAIL: a non-loopback target was accepted" >&2
  exit 1
fi
# Replicas share a database: without a PostgreSQL one (--database-url) they are refused.
if "$load" --artd-binary "$artd" --replicas 2 --mode floor --duration-seconds 0.1 2>/dev/null; then
  echo "FAIL: --replicas 2 was accepted without --database-url" >&2
  exit 1
fi
echo PASS
