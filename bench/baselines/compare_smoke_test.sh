#!/bin/bash
# CI smoke test of //bench/baselines:compare: runs the whole comparison at small n and checks that
# the table and the CSV hold every figure for every design.
set -euo pipefail
compare="$1"
csv="${TEST_TMPDIR:-/tmp}/baselines.csv"
table="$("$compare" --sizes 4,9 --repetitions 1 --setup-repetitions 1 --min-batch-ms 1 --csv "$csv")"
echo "$table"
fail() { echo "FAIL: $*" >&2; exit 1; }
# 7 figures x 2 sizes x 3 designs, plus the header line.
[[ "$(wc -l < "$csv")" -eq 43 ]] || fail "CSV has $(wc -l < "$csv") lines, expected 43"
head -1 "$csv" | grep -qx 'metric,title,unit,n,design,value,ratio_to_art' || fail "CSV header"
# Every value is a positive number, and ART's ratio to itself is 1.
awk -F, 'NR > 1 && !($6 > 0) { exit 1 }' "$csv" || fail "a figure is not positive"
awk -F, 'NR > 1 && $5 == "ART" && $7 != 1 { exit 1 }' "$csv" || fail "ART ratio is not 1"
# Byte counts follow the wire model: pairwise sends n-1 ciphertexts of 68 + payload bytes.
grep -qx 'message_bytes,Message: bytes sent,B,9,pairwise,8736,.*' "$csv" || fail "pairwise message bytes"
grep -q '^| Setup: creator CPU (us) | 4 |' <<<"$table" || fail "table row missing"
echo PASS
