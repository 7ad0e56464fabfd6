#!/usr/bin/env bash
# `make image`: build the container image from the repo's Dockerfile with podman, where no registry
# image can be pulled. Three steps, each a Debian or PyPI client doing its ordinary job:
#   1. mmdebstrap makes a Debian base root filesystem (CPython 3.11, venv, passwd), and
#      `podman import` turns it into the local image the Dockerfile's PYTHON_IMAGE build arg names
#      (what python:3.11-slim is in a normal build); the tarball is cached in build/image/.
#   2. pip downloads every wheel the build needs for that base's Python and glibc into a wheelhouse
#      (the host's pip, with the host's index and certificates).
#   3. podman builds the Dockerfile with --network none; the wheelhouse is mounted into the builder's
#      RUN steps and PIP_NO_INDEX/PIP_FIND_LINKS point pip at it. Both are build args, so they do not
#      reach the final image.
# Overrides (environment): IMAGE, BASE_IMAGE, SUITE, MIRROR, PODMAN, PODMAN_OPTS (global podman
# options such as --root/--storage-driver), PODMAN_LIMITS, REBUILD_BASE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)
IMAGE=${IMAGE:-localhost/crashloop-exporter:$VERSION}
SUITE=${SUITE:-bookworm}             # Debian 12: CPython 3.11 (the Dockerfile's python:3.11), glibc 2.36
GLIBC_MINOR=${GLIBC_MINOR:-36}       # the base's glibc 2.N: the newest manylinux wheel it runs
BASE_IMAGE=${BASE_IMAGE:-localhost/crashloop-exporter-base:$SUITE}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PY=${PYTHON:-python3}
CACHE=build/image
BASE_TAR="$CACHE/base-$SUITE.tar"
read -r -a PODMAN <<<"${PODMAN:-podman} ${PODMAN_OPTS:-}"
# runc rather than crun where runc is installed: crun refuses a host with cgroup v1 and a
# cgroup2 mount side by side ("cgroups in hybrid mode not supported"); runc runs on both.
if command -v runc >/dev/null && [[ " ${PODMAN_OPTS:-} " != *" --runtime "* ]]; then PODMAN+=(--runtime runc); fi
# Resource limits are lowered, never raised: podman's defaults (1M open files) need
# CAP_SYS_RESOURCE, which a container manager running inside a sandbox does not have.
read -r -a LIMITS <<<"${PODMAN_LIMITS:---ulimit nofile=4096:4096 --ulimit nproc=4096:4096}"

for tool in "${PODMAN[0]}" mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool not found (scripts/install-image-deps.sh)" >&2; exit 1; }
done
mkdir -p "$CACHE"
step() { printf 'build-image: %s (%ss so far)\n' "$1" "$SECONDS"; }

# 1. The base image: what the Dockerfile's stages run, python3 + venv (the builder's
#    `python -m venv`), python-is-python3 (`python`), passwd (the final stage's useradd), and what
#    python:3.11-slim also carries that the wheels need: libstdc++6 (google-re2), ca-certificates.
if [ ! -s "$BASE_TAR" ] || [ "${REBUILD_BASE:-0}" = 1 ]; then
  step "mmdebstrap $SUITE into $BASE_TAR"
  mmdebstrap --mode=root --variant=essential --format=tar --quiet \
    --include=passwd,python3,python3-venv,python-is-python3,ca-certificates,libstdc++6 \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    "$SUITE" "$BASE_TAR.part" "$MIRROR"
  mv "$BASE_TAR.part" "$BASE_TAR"
fi
step "import $BASE_TAR as $BASE_IMAGE"
"${PODMAN[@]}" import --quiet --change 'CMD ["python3"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null

# 2. The wheelhouse: the build backend and every dependency, as binary wheels for the base's
#    CPython 3.11 and glibc (manylinux_2_5 .. manylinux_2_N), whatever Python runs this script.
wheelhouse="$CACHE/wheelhouse"
rm -rf "$wheelhouse"
arch=$(uname -m)
platforms=(--platform "manylinux1_$arch" --platform "manylinux2010_$arch" --platform "manylinux2014_$arch")
for minor in $(seq 5 "$GLIBC_MINOR"); do platforms+=(--platform "manylinux_2_${minor}_$arch"); done
step "pip download the wheelhouse"
"$PY" -m pip download --quiet --disable-pip-version-check --dest "$wheelhouse" --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
  . 'setuptools>=77' wheel

# 3. The image, offline.
step "podman build $IMAGE"
"${PODMAN[@]}" build --quiet --network none "${LIMITS[@]}" \
  --volume "$PWD/$wheelhouse:/wheelhouse:ro" \
  --build-arg PYTHON_IMAGE="$BASE_IMAGE" \
  --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheelhouse \
  --build-arg VERSION="$VERSION" \
  --tag "$IMAGE" . >/dev/null
step "built $IMAGE"
