#!/usr/bin/env bash
# Debian packages the tests use: a real Prometheus (+promtool) and Alertmanager (+amtool), and
# openssl (the simulator makes its TLS certificates with it). helm and kubectl: scripts/install-tools.sh.
set -euo pipefail

need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-system-deps: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package may start its own Prometheus on :9090 where an init system exists; the tests
# never use that one (they start their own on free ports), so it is left alone.
for bin in promtool amtool prometheus prometheus-alertmanager openssl; do
  command -v "$bin" >/dev/null || { echo "install-system-deps: $bin still missing" >&2; exit 1; }
done
# helm and kubectl 1.35 come from scripts/install-tools.sh (make tools), not from Debian.
