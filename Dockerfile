# crashloop-exporter container image.
#   docker build -t ghcr.io/crashloop-exporter/crashloop-exporter:0.1.0 .
# Two stages: the builder installs the package and its dependencies into a virtualenv; the final
# image gets only that virtualenv on the same Python base, so no pip cache, no build tools and no
# source tree ship. Every dependency has binary wheels for CPython 3.11 on amd64 and arm64, so the
# builder needs no compiler either. Pin the base by digest for reproducible builds:
#   --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:...
# Where no registry can be reached, `make image` builds this file with podman on a Debian base
# made with mmdebstrap (scripts/build-image.sh).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Unset in a normal build (pip uses PyPI). `make image` (scripts/build-image.sh) builds offline on
# a local Debian base: it mounts a wheelhouse and sets PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheelhouse.
# Build args, not ENV, so they stay out of the final image.
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
RUN python -m venv /opt/venv
WORKDIR /src
# pyproject.toml names README.md as the package's readme, so it is part of the build input.
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# Build the wheel, install it with its dependencies, then take pip and setuptools back out of
# the venv: the final image installs nothing, so it ships no installer.
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install /wheels/*.whl \
 && /opt/venv/bin/crashloop-exporter --version \
 && /opt/venv/bin/python -m pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="crashloop-exporter" \
      org.opencontainers.image.description="Prometheus exporter that classifies why Kubernetes containers crash, by cause." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/crashloop-exporter/crashloop-exporter"
# A named account for the numeric UID the manifests run as (runAsUser 65532), so tools that look
# the user up (HOME, getpass) find one; the login shell is nologin and there is no home.
RUN groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot
COPY --from=builder /opt/venv /opt/venv
# The root filesystem is read-only in Kubernetes: never try to write .pyc files; unbuffered so
# log lines reach `kubectl logs` as they are written.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 10079
# Kubernetes probes /healthz and /readyz (deploy/base); a HEALTHCHECK would only duplicate them.
ENTRYPOINT ["crashloop-exporter"]
CMD ["serve"]
