#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: the artd service on its embedded SQLite
# default and a demo through the client SDK (1,000 members register, a group of 1,000, members
# joining at different times, updates, an add, a removal, messages, with a timing table).
#
#   scripts/run.sh [--keep-running] [sdk_demo flags, e.g. --members=200]
#       --keep-running leaves artd serving afterwards and prints how to reach and stop it.
#   scripts/run.sh --core-demo [core_demo flags]
#       the in-memory demo of the protocol core instead (no service).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

if [[ "${1:-}" == "--core-demo" ]]; then
  shift
  bazel build -c opt //art/demo:core_demo
  exec "$(bazel info -c opt bazel-bin)/art/demo/core_demo" "$@"
fi

bazel build -c opt //service:artd //client/demo:sdk_demo
# The -c opt output tree by name: bazel-bin follows whichever configuration built last.
bin="$(bazel info -c opt bazel-bin)"
keep_running=false
for arg in "$@"; do
  if [[ "$arg" == "--keep-running" ]]; then keep_running=true; fi
done
args=()
if [[ "$keep_running" == true ]]; then args+=(--keep-running); fi
for arg in "$@"; do
  if [[ "$arg" != "--keep-running" ]]; then args+=("$arg"); fi
done

# The database, the server's log and every member's encrypted state, deleted afterwards unless the
# server is kept running on them.
workdir="$(mktemp -d "${TMPDIR:-/tmp}/artd-demo.XXXXXX")"
if [[ "$keep_running" == false ]]; then trap 'rm -rf "$workdir"' EXIT; fi
client/demo/run_sdk_demo.sh "$bin/service/artd" "$bin/client/demo/sdk_demo" "$workdir" "${args[@]}"
