#!/usr/bin/env bash
# Installs the Debian packages artd needs to build and test. Idempotent: when everything is already
# installed it only checks (dpkg-query) and returns in well under a second.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-java bazel-rules-proto bazel-skylib
  g++ libssl-dev android-libboringssl-dev libsodium-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libpq-dev postgresql
  nlohmann-json3-dev libcli11-dev prometheus-cpp-dev
  python3
  # deploy/test.sh: the container image (kubectl and Node.js come with the machine image).
  buildah podman runc
  # scripts/fuzz.sh: libFuzzer and clang's sanitizer runtimes.
  clang-14 libclang-rt-14-dev lld
)

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
