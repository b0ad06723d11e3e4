#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: for now the in-memory demo of the ART core
# (a 1,000-member group through updates, an add, a removal and messages, with a timing table).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bazel build -c opt //art/demo:core_demo
exec bazel-bin/art/demo/core_demo "$@"
