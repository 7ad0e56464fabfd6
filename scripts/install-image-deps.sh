#!/usr/bin/env bash
# Debian packages `make image` and tests/packaging/test_image.py use: podman builds and runs the
# image, runc is the runtime scripts/build-image.sh picks (crun refuses hosts with cgroup v1 and a
# cgroup2 mount side by side), mmdebstrap makes the Debian base, since no registry image is pulled.
# Not part of scripts/install-system-deps.sh: the image check is opt-in (pytest -m image).
set -euo pipefail

need=()
for pkg in podman runc mmdebstrap; do command -v "$pkg" >/dev/null || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-image-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # With recommends: podman's (network plugins, catatonit, ...) are what the image check ran with.
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
for bin in podman runc mmdebstrap; do
  command -v "$bin" >/dev/null || { echo "install-image-deps: $bin still missing" >&2; exit 1; }
done
