#!/usr/bin/env bash
# Runs the client SDK demo against a real artd: a fresh SQLite database in WORKDIR, `artd serve` on
# a free loopback port, a tenant with an API key and a credential key (the demo makes the key pair
# and certifies members with it, standing in for the tenant's authentication service), then
# sdk_demo. Stops artd afterwards (SIGTERM, waiting for it to drain) unless --keep-running is given.
#
# Usage: run_sdk_demo.sh ARTD SDK_DEMO WORKDIR [--keep-running] [sdk_demo flags, e.g. --members=30]
# Shared by scripts/run.sh (the README's main job) and //client/demo:sdk_demo_test.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 ARTD SDK_DEMO WORKDIR [--keep-running] [sdk_demo flags]" >&2
  exit 2
fi
artd="$1"
demo="$2"
workdir="$3"
shift 3
keep_running=false
if [[ "${1:-}" == "--keep-running" ]]; then
  keep_running=true
  shift
fi
tenant="demo-tenant"

mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
database="$workdir/artd.db"
log="$workdir/artd.log"
rm -rf "$database" "$database"-* "$workdir/members"

# artd is stopped on every way out, also a failed one; only a successful --keep-running run leaves it.
artd_pid=""
leave_running=false
stop_artd() {
  if [[ -n "$artd_pid" && "$leave_running" == false ]] && kill -0 "$artd_pid" 2>/dev/null; then
    kill -TERM "$artd_pid" 2>/dev/null || true
    wait "$artd_pid" 2>/dev/null || true
  fi
}
trap stop_artd EXIT

# Port 0: the kernel picks a free port and artd names it on stderr. SIGHUP is ignored so that a
# server kept running outlives the terminal this script ran in. The log exists before artd starts, so
# reading it for the port never races the background shell that opens it.
: >"$log"
(
  trap '' HUP
  exec "$artd" serve --listen 127.0.0.1:0 --database "$database" </dev/null 2>"$log"
) &
artd_pid=$!
port=""
for _ in $(seq 300); do
  port="$(sed -n 's/^artd: serving on port \([0-9][0-9]*\) .*/\1/p' "$log")"
  [[ -n "$port" ]] && break
  if ! kill -0 "$artd_pid" 2>/dev/null; then
    echo "run_sdk_demo: artd exited before serving:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "run_sdk_demo: artd did not report its port within 30 s:" >&2
  cat "$log" >&2
  exit 1
fi
target="127.0.0.1:$port"
echo "artd (pid $artd_pid) serving on $target, database $database"

# The tenant, its API key, and the credential key its members' credentials are certified with.
"$artd" admin --database "$database" create-tenant --tenant "$tenant"
api_key="$("$artd" admin --database "$database" issue-key --tenant "$tenant" | sed -n 's/^api_key //p')"
tenant_key="$("$demo" --print-tenant-key)"
public_key="$(sed -n 's/^tenant_public_key //p' <<<"$tenant_key")"
"$artd" admin --database "$database" add-credential-key --tenant "$tenant" --public-key "$public_key"
# Secrets go to the demo through its environment, not its command line (visible to every user).
export SDK_DEMO_API_KEY="$api_key"
SDK_DEMO_TENANT_SIGNING_SEED="$(sed -n 's/^tenant_signing_seed //p' <<<"$tenant_key")"
export SDK_DEMO_TENANT_SIGNING_SEED
echo

"$demo" --target "$target" --tenant "$tenant" --state-dir "$workdir/members" "$@"

echo
if [[ "$keep_running" == true ]]; then
  leave_running=true
  cat >"$workdir/artd.env" <<ENV
ARTD_TARGET=$target
ARTD_TENANT=$tenant
ARTD_API_KEY=$api_key
ARTD_PID=$artd_pid
ENV
  chmod 600 "$workdir/artd.env"
  echo "artd keeps running: pid $artd_pid on $target, database $database, log $log"
  echo "  tenant $tenant; its API key is in $workdir/artd.env"
  echo "  admin: $artd admin --database $database ..."
  echo "  stop it with: kill -TERM $artd_pid"
else
  echo "stopping artd (SIGTERM)"
  kill -TERM "$artd_pid"
  wait "$artd_pid" || true
  artd_pid=""
  tail -n 2 "$log"
fi
