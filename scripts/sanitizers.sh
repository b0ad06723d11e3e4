#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc's --config=asan:
# gcc, -fno-sanitize-recover=all, leak checking on), so any finding fails its test. The fuzz targets'
# regression tests replay their corpora here too.
#
#   scripts/sanitizers.sh [bazel test arguments]     default: every test (//...)
#
# The sanitized outputs live beside the default ones (--platform_suffix=asan) in the same output base,
# so the Bazel server, its repositories and the unsanitized outputs stay as they are. The environment
# passes through as scripts/test.sh sets it (ARTD_TEST_POSTGRES_URL, ART_SHARED_DIR): without a
# PostgreSQL server the PostgreSQL tests skip their PostgreSQL parts.
#
# ARTD_SANITIZER_OUTPUT_BASE names another output base instead (e.g. not to queue behind a shared
# Bazel server); the packages are then listed explicitly, since //... would descend into the default
# output base through the bazel-<workspace> symlink.
set -euo pipefail
cd "$(dirname "$0")/.."

startup=()
patterns=(//...)
if [[ -n "${ARTD_SANITIZER_OUTPUT_BASE:-}" ]]; then
  startup=(--output_base="$ARTD_SANITIZER_OUTPUT_BASE")
  patterns=()
  # Every top-level directory holding a package; symlinks (bazel-*) are not directories to find.
  for directory in $(find . -mindepth 1 -maxdepth 1 -type d -not -name '.*' -printf '%f\n' | sort); do
    if [[ -n "$(find "$directory" \( -name BUILD -o -name BUILD.bazel \) -print -quit)" ]]; then
      patterns+=("//$directory/...")
    fi
  done
fi
if (($# > 0)); then
  patterns=("$@")
fi
echo "sanitizers.sh: bazel test --config=asan ${patterns[*]}"
# Only what the tests need is built: benchmarks and tools are not compiled a second time.
bazel "${startup[@]}" test --config=asan --build_tests_only --test_output=errors "${patterns[@]}"
