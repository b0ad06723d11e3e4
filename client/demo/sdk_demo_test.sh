#!/usr/bin/env bash
# The README's main job at a small size: run_sdk_demo.sh starts a real artd on a fresh SQLite
# database, sets up a tenant and runs sdk_demo with 30 members; the demo must report agreement after
# every step, the removed member's refusal, and artd must stop cleanly afterwards.
set -euo pipefail
launcher="$1"
artd="$2"
demo="$3"
workdir="${TEST_TMPDIR:-$(mktemp -d)}/sdk-demo"

output="$("$launcher" "$artd" "$demo" "$workdir" --members=30 --online=8 --updates=2 --threads=4 2>&1)" || {
  echo "$output"
  echo "FAIL: the demo run failed" >&2
  exit 1
}
echo "$output"

fail() {
  echo "FAIL: $1" >&2
  exit 1
}
grep -q '^OK: every step verified; all [0-9]* online members agree' <<<"$output" || fail "no final OK line"
# Every agreement line has all online members agreeing ("K of K").
checks="$(grep -Ec '^  after .* online members agree' <<<"$output")"
agreed="$(grep -Ec '^  after .*, ([0-9]+) of \1 online members agree \(epoch_authenticator [0-9a-f]{16}' <<<"$output")"
((checks >= 10)) || fail "only $checks agreement checks"
((checks == agreed)) || fail "$((checks - agreed)) agreement check(s) without every member agreeing"
grep -Eq '^removed member member-[0-9]+ tries Receive: FAILED_PRECONDITION: .* was removed' <<<"$output" ||
  fail "the removed member's Receive was not refused"
grep -q 'joined from its Welcome' <<<"$output" || fail "the newcomer did not join"
grep -q '^artd: stopped$' "$workdir/artd.log" || fail "artd did not stop cleanly"
echo PASS
