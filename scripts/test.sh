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
# The PostgreSQL backend's tests need a server: a scratch cluster on a free loopback port, stopped
# and deleted on exit. A server named by ARTD_TEST_POSTGRES_URL already is used as it is.
if [[ -z "${ARTD_TEST_POSTGRES_URL:-}" ]]; then
  port=55432
  # A port something already answers on is taken (bash's /dev/tcp connects or fails at once).
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  postgres_dir="$(mktemp -d /tmp/artd-postgres.XXXXXX)"
  trap 'scripts/postgres-scratch.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
  scripts/postgres-scratch.sh start "$postgres_dir" "$port"
  export ARTD_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
fi
bazel test --test_output=errors //...
# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer (a finding fails its test).
scripts/sanitizers.sh
# Each libFuzzer target for a bounded time from its committed corpus (clang-14, its own output base).
ARTD_FUZZ_SECONDS="${ARTD_FUZZ_SECONDS:-10}" scripts/fuzz.sh
# The Kubernetes manifests (rendered and validated strictly) and the container image (built, and
# its server health-checked, where buildah and podman can run).
deploy/test.sh
