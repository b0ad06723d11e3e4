#!/usr/bin/env bash
# Offline checks of deploy/: both kustomize overlays render and every object is valid under the
# Kubernetes schemas, strictly (node --test validate/, including negative tests); then, where buildah
# and podman can run, the image is built and the server in it answers a gRPC health check, serves
# `artd admin` through exec, and drains on SIGTERM (NOT_SERVING, then exit 0).
#
# Assumes scripts/install-deps.sh installed the Debian packages (kubectl, nodejs, grpc-proto, and
# buildah podman runc for the image part) and runs as root. Needs the npm registry for `npm ci`.
set -euo pipefail

deploy=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$deploy")
cd "$deploy"

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "== render both overlays and validate them from the command line"
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in single-node production; do
  kubectl kustomize "kustomize/overlays/$overlay" > "$rendered/$overlay.yaml"
  if node validate/cli.mjs --overlay "$overlay" "$rendered/$overlay.yaml"; then
    pass "overlay $overlay renders and validates"
  else
    fail "overlay $overlay"
  fi
done

echo "== manifest tests"
if node --test --test-reporter=tap validate/ | tee "$rendered/tap.txt"; then
  pass "manifest tests ($(sed -n 's/^# pass //p' "$rendered/tap.txt") passed)"
else
  fail "manifest tests ($(sed -n 's/^# fail //p' "$rendered/tap.txt") failed)"
fi

echo "== image"
# The store is private to this script (vfs: works inside a container) and removed afterwards.
store=$(mktemp -d /var/tmp/artd-deploy-test.XXXXXX)
storage=(--storage-driver vfs --root "$store/root" --runroot "$store/run")
container=artd-deploy-test-$$
image=localhost/artd:deploy-test-$$
postgres=
cleanup() {
  podman "${storage[@]}" rm -f "$container" >/dev/null 2>&1 || true
  if [[ -n "$postgres" ]]; then
    "$repo/scripts/postgres-scratch.sh" stop "$postgres" >/dev/null 2>&1 || true
  fi
  podman "${storage[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$store" "$rendered" "$postgres"
}
trap cleanup EXIT

container_tools_work() {
  for tool in buildah podman runc; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed"; return 1; }
  done
  # podman info fails where podman cannot set up its store or user namespace (no root, no /var/tmp).
  local probe_output
  if ! probe_output=$(podman "${storage[@]}" info 2>&1); then
    echo "podman info failed: ${probe_output##*$'\n'}"
    return 1
  fi
}

# The checks on a running server: SQLite as in the single-node overlay, then PostgreSQL as in the
# production overlay.
run_checks() {
  free_port() {
    node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  }
  # start_server NAME PORT DATABASE [PODMAN RUN OPTIONS...]: runs the image as the cluster does:
  # the overlay's ConfigMap as environment (so the binary must accept every value in it), read-only
  # root, no capabilities, /tmp writable. Host network with both listeners moved to loopback ports.
  # runc here may not raise limits to podman's defaults (it lacks CAP_SYS_RESOURCE): ask for lower.
  start_server() {
    local name=$1 port=$2 database=$3
    shift 3
    health_port=$(free_port)  # The probes' port (ARTD_HEALTH_LISTEN), read by check_serving.
    podman "${storage[@]}" run -d --name "$name" --network host \
      --ulimit nofile=8192:8192 --ulimit nproc=4096:4096 \
      --read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp "$@" \
      --env-file "$rendered/config.env" \
      -e ARTD_LISTEN="127.0.0.1:$port" -e ARTD_METRICS_LISTEN="127.0.0.1:$(free_port)" \
      -e ARTD_HEALTH_LISTEN="127.0.0.1:$health_port" \
      -e ARTD_DATABASE="$database" \
      "$image" >/dev/null
  }
  # check_serving NAME PORT WHAT: grpc.health.v1 answers SERVING, and `artd admin` (as deploy/README.md
  # tells operators to run it with kubectl exec) works in the container against its database.
  check_serving() {
    local name=$1 port=$2 what=$3
    if node health/check.mjs serving "127.0.0.1:$port" 30; then
      pass "$what: the server in the image answers grpc.health.v1 Check with SERVING"
    else
      fail "$what: health check"
      podman "${storage[@]}" logs "$name" >&2 || true
    fi
    if node health/check.mjs serving "127.0.0.1:$health_port" 30; then
      pass "$what: the probes' plaintext health port (ARTD_HEALTH_LISTEN) answers SERVING"
    else
      fail "$what: health check on the probes' port"
    fi
    if podman "${storage[@]}" exec "$name" artd admin create-tenant --tenant acme | grep -qx 'created tenant acme' &&
       podman "${storage[@]}" exec "$name" artd admin issue-key --tenant acme | grep -q '^api_key artd_'; then
      pass "$what: artd admin runs through exec in the running container"
    else
      fail "$what: artd admin through exec"
    fi
  }

  # SQLite on a volume at /data, as in the single-node overlay.
  node validate/pod-settings.mjs "$rendered/single-node.yaml" env > "$rendered/config.env"
  data="$store/data"
  mkdir -p "$data"
  chown 65532:65532 "$data"
  port=$(free_port)
  start_server "$container" "$port" /data/artd.db -v "$data:/data"
  check_serving "$container" "$port" sqlite
  if [[ $(stat -c %u "$data/artd.db") == 65532 ]]; then
    pass "sqlite: the database on the volume was written by uid 65532"
  else
    fail "sqlite: the database on the volume belongs to uid $(stat -c %u "$data/artd.db")"
  fi
  # SIGTERM with the overlay's drain time and a call in flight (the health Watch, held open): NOT_SERVING,
  # the call kept for the whole drain, then exit 0 by itself. How long that took is printed beside the
  # grace period, not asserted (a loaded machine stretches it); the manifest rules keep the grace
  # period above the drain.
  grace=$(node validate/pod-settings.mjs "$rendered/single-node.yaml" grace)
  drain=$(sed -n 's/^ARTD_DRAIN_SECONDS=//p' "$rendered/config.env")
  started=$SECONDS
  if node health/check.mjs drain "127.0.0.1:$port" 30 podman "${storage[@]}" kill --signal TERM "$container"; then
    pass "sqlite: SIGTERM turns health NOT_SERVING"
  else
    fail "sqlite: drain: no NOT_SERVING after SIGTERM"
  fi
  exit_code=$(timeout $((grace + 15)) podman "${storage[@]}" wait "$container" || echo timeout)
  took=$((SECONDS - started))
  if [[ "$exit_code" == 0 ]] && ((took >= drain)) &&
     podman "${storage[@]}" logs "$container" 2>&1 | grep -qx 'artd: stopped'; then
    pass "sqlite: artd keeps a call in flight for ARTD_DRAIN_SECONDS ($drain s) and exits 0 (after $took s; grace period $grace s)"
  else
    fail "sqlite: exit after SIGTERM: status $exit_code after $took s (drain $drain s, grace $grace s)"
    podman "${storage[@]}" logs "$container" >&2 || true
  fi
  podman "${storage[@]}" rm -f "$container" >/dev/null

  # PostgreSQL by URL, as in the production overlay (a host name, so name resolution in the image
  # is exercised too).
  # The cluster belongs to the postgres user, who cannot enter $store.
  postgres=$(mktemp -d /tmp/artd-deploy-test-postgres.XXXXXX)
  pg_port=$(free_port)
  "$repo/scripts/postgres-scratch.sh" start "$postgres" "$pg_port" >/dev/null
  port=$(free_port)
  start_server "$container" "$port" "postgresql://postgres@localhost:$pg_port/postgres"
  check_serving "$container" "$port" postgresql
  podman "${storage[@]}" rm -f "$container" >/dev/null
  "$repo/scripts/postgres-scratch.sh" stop "$postgres" >/dev/null
}

if ! why=$(container_tools_work); then
  skipped=$((skipped + 1))
  echo "SKIPPED: image build and health check: $why (install buildah podman runc, run as root)"
else
  # ARTD_BINARY: a binary built already (saves a turn on the shared Bazel server while developing).
  binary=${ARTD_BINARY:-}
  if [[ -z "$binary" ]]; then
    (cd "$repo" && bazel build //service:artd)
    binary="$repo/bazel-bin/service/artd"
  fi
  "$deploy/image/build.sh" --binary "$binary" --tag "$image" --storage-root "$store" >/dev/null
  user=$(podman "${storage[@]}" image inspect --format '{{.Config.User}}' "$image")
  if [[ "$user" == 65532:65532 ]]; then
    pass "image builds FROM scratch and runs as 65532:65532"
  else
    fail "image user is '$user', not 65532:65532"
  fi

  # Whether runc can start a container here at all: a sandbox without namespaces refuses it with an
  # OCI runtime error, which is a skip; any other failure (a library missing from the image) fails.
  if probe=$(podman "${storage[@]}" run --rm --network host --ulimit nofile=8192:8192 --ulimit nproc=4096:4096 \
               "$image" --help 2>&1); then
    pass "artd starts in the image (every library and the loader are there)"
    run_checks
  elif grep -qiE 'OCI runtime|runc|namespace|operation not permitted' <<<"$probe"; then
    skipped=$((skipped + 1))
    echo "SKIPPED: running the image: podman cannot start containers here: ${probe##*$'\n'}"
  else
    fail "artd does not start in the image: $probe"
  fi
fi

echo "deploy: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
