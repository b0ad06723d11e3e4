#!/usr/bin/env bash
# Builds every libFuzzer target of tests/fuzz with clang-14 (ASan + UBSan + coverage) in a Bazel output
# base of its own, then runs each for a bounded time starting from its committed corpus and regression
# inputs. Fails on any crash, leak, sanitizer finding, failed invariant or timeout; the input that
# caused it is kept (see tests/fuzz/README.md for turning it into a regression test).
#
#   scripts/fuzz.sh [TARGET...]        default: every target tagged fuzz_target in //tests/fuzz
#
# Environment:
#   ARTD_FUZZ_SECONDS       seconds per target (default 20)
#   ARTD_FUZZ_JOBS          targets fuzzed at once (default: the number of CPUs)
#   ARTD_FUZZ_ARTIFACTS     where crashing inputs and logs go (default: a new directory under /tmp)
#   ARTD_CLANG_OUTPUT_BASE  the clang output base (default ~/.cache/artd-clang). Never the default
#                           one: Bazel fixes the C++ toolchain when it creates an output base, so
#                           sharing it with gcc builds would rebuild everything on every switch.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${ARTD_FUZZ_SECONDS:-20}"
jobs="${ARTD_FUZZ_JOBS:-$(nproc)}"
artifacts="${ARTD_FUZZ_ARTIFACTS:-$(mktemp -d /tmp/artd-fuzz.XXXXXX)}"
output_base="${ARTD_CLANG_OUTPUT_BASE:-$HOME/.cache/artd-clang}"
clang_bazel() { bazel --output_base="$output_base" "$@"; }
build_flags=(--config=fuzz --repo_env=CC=clang-14)

if (($# > 0)); then
  targets=("${@/#/\/\/tests\/fuzz:}")
else
  # The same --repo_env as the build, or the query would configure the C++ toolchain for gcc first.
  mapfile -t targets < <(clang_bazel query --repo_env=CC=clang-14 \
    'attr(tags, "\bfuzz_target\b", //tests/fuzz:*)' 2>/dev/null)
fi
((${#targets[@]} > 0)) || { echo "fuzz.sh: no fuzz targets found" >&2; exit 1; }

echo "fuzz.sh: building ${#targets[@]} targets with clang-14 in $output_base"
clang_bazel build "${build_flags[@]}" "${targets[@]}"
bin_dir="$(clang_bazel info "${build_flags[@]}" bazel-bin 2>/dev/null)"
mkdir -p "$artifacts"

# Runs one target for $seconds; new inputs go to a scratch corpus, never into the committed one.
fuzz_one() {
  local name="${1##*:}"
  local scratch="$artifacts/$name.corpus"
  mkdir -p "$scratch" "$artifacts/$name.crashes"
  local inputs=("tests/fuzz/corpus/$name")
  [[ -d "tests/fuzz/regressions/$name" ]] && inputs+=("tests/fuzz/regressions/$name")
  local log="$artifacts/$name.log"
  if "$bin_dir/tests/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$name.crashes/" "$scratch" "${inputs[@]}" \
      >"$log" 2>&1; then
    local runs coverage
    runs="$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')"
    coverage="$(grep -o 'cov: [0-9]*' "$log" | tail -1)"
    echo "fuzz.sh: $name: ok, $runs runs in ${seconds}s, $coverage"
  else
    echo "fuzz.sh: $name: FAILED (log $log, input in $artifacts/$name.crashes/):" >&2
    grep -E -A20 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|fuzz invariant' "$log" \
      | head -40 >&2 || tail -40 "$log" >&2
    return 1
  fi
}

echo "fuzz.sh: running each target for ${seconds}s, $jobs at a time; logs in $artifacts"
failed=0
running=0
for target in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
if ((failed)); then
  echo "fuzz.sh: FAILED; crashing inputs are under $artifacts" >&2
  exit 1
fi
echo "fuzz.sh: every target ran ${seconds}s without a finding"
