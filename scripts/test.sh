#!/usr/bin/env bash
# Installs what is missing and runs every test. This is the README's test command; CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Wycheproof vectors live beside the project in ../shared; tests that need them skip without them.
if [[ -z "${ART_SHARED_DIR:-}" && -d ../shared/testdata ]]; then
  ART_SHARED_DIR="$(cd ../shared && pwd)"
  export ART_SHARED_DIR
fi
bazel test --test_output=errors //...
