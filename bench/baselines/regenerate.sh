#!/bin/bash
# Regenerates the comparison of ART with its baselines: runs //bench/baselines:compare with -c opt
# (n = 10 .. 10,000; about 3-5 minutes on 2 cores), prints the markdown table for
# docs/baselines.md, keeps the CSV and redraws docs/baselines.png.
#
#   bench/baselines/regenerate.sh [compare options, e.g. --sizes 10,100]
#
# Needs Debian's python3-matplotlib (run with /usr/bin/python3, not a pyenv python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
csv="${BASELINES_CSV:-/tmp/baselines.csv}"
bazel build -c opt //bench/baselines:compare
bazel-bin/bench/baselines/compare --csv "$csv" "$@"
/usr/bin/python3 bench/baselines/plot.py "$csv" docs/baselines.png
echo "CSV: $csv; plot: docs/baselines.png" >&2
