#!/usr/bin/env bash
# Builds the artd container image offline with buildah: FROM scratch with the binary, every shared
# library `ldd` lists and the dynamic loader, running as uid 65532.
#
#   deploy/image/build.sh [--binary PATH] [--tag NAME] [--storage-root DIR]
#
# Defaults: the binary bazel-bin/service/artd (build it first: bazel build //service:artd), the tag
# localhost/artd:latest and buildah's default image store. The store uses the vfs driver, which
# works inside a container and without overlay support; podman must be given the same
# --storage-driver vfs (and --root/--runroot with --storage-root) to see the image.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
binary="$repo/bazel-bin/service/artd"
tag=localhost/artd:latest
storage=(--storage-driver vfs)
while (($# > 0)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --storage-root) storage+=(--root "$2/root" --runroot "$2/run"); shift 2 ;;
    *) echo "usage: $0 [--binary PATH] [--tag NAME] [--storage-root DIR]" >&2; exit 2 ;;
  esac
done
[[ -x "$binary" ]] || { echo "build.sh: no executable $binary (bazel build //service:artd)" >&2; exit 1; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$context/data"
mkdir -m 1777 "$rootfs/tmp"
cp -L "$binary" "$rootfs/usr/local/bin/artd"
chmod 0755 "$rootfs/usr/local/bin/artd"

# Each library at the path the loader resolved it to, and the loader at the binary's interpreter
# path. Without /etc/ld.so.cache the loader searches its built-in directories, which include these.
interpreter=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ -n "$interpreter" ]] || { echo "build.sh: $binary names no program interpreter" >&2; exit 1; }
{ ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'; echo "$interpreter"; } | sort -u |
  while read -r library; do
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
  done

# A user name for uid 65532: libpq and Kerberos look the current user up.
printf 'root:x:0:0:root:/:/sbin/nologin\nartd:x:65532:65532:artd:/data:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nartd:x:65532:\n' > "$rootfs/etc/group"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"

cp "$(dirname "$0")/Containerfile" "$context/Containerfile"
buildah "${storage[@]}" build --isolation chroot --layers=false \
  --timestamp 0 -f "$context/Containerfile" -t "$tag" "$context" >&2
echo "$tag"
