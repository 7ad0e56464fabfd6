"""Read `-f FILE` inputs: what `kubectl get pods,events,nodes -o json|yaml` prints.

Accepted: Pod, PodList, Event, EventList, Node, NodeList and `kind: List` (kubectl's mixed list),
as JSON (one or several values) or YAML (one or several documents); `-` reads stdin. A file that
holds none of those (a Deployment manifest, a ConfigMap) is an input error naming the file, since
the user almost certainly passed the wrong one. Logs cannot come from these files; `--logs DIR`
supplies them as `DIR/<pod>/<container>.log` (or `DIR/<namespace>/<pod>/<container>.log`), the
output of `kubectl logs POD -c C --previous`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.documents import decode_bytes, iter_documents, iter_objects
from crashloop_exporter.inputs.snapshot import OBJECT_KINDS, SnapshotBuilder

EXPECTED = (
    "expected Pods, Events or Nodes as printed by `kubectl get pods,events -o json` or `-o yaml` "
    "(Pod, PodList, Event, EventList, Node, NodeList or List)"
)


def _read_source(source: str, stdin: BinaryIO | None) -> tuple[bytes, str]:
    if source == "-":
        return (stdin or sys.stdin.buffer).read(), "<stdin>"
    path = Path(source)
    if path.is_dir():
        hint = " (a `kubectl cluster-info dump` directory? use --dump)" if (path / "nodes.json").exists() else ""
        raise InputError(f"-f {source}: is a directory, expected a file{hint}")
    try:
        return path.read_bytes(), source
    except FileNotFoundError as e:
        raise InputError(f"-f {source}: no such file") from e
    except OSError as e:
        raise InputError(f"-f {source}: cannot read: {e.strerror or e}") from e


def load_file(source: str, *, builder: SnapshotBuilder, stdin: BinaryIO | None = None) -> int:
    """Read one `-f` source into `builder`; returns how many Pod/Event/Node objects it held."""
    data, where = _read_source(source, stdin)
    text = decode_bytes(data)
    if not text.strip():
        raise InputError(f"{where}: empty file; {EXPECTED}")
    accepted, documents = 0, 0
    other_kinds: Counter[str] = Counter()
    for doc in iter_documents(text, file=where, warn=builder.warn):
        documents += 1
        for item in iter_objects(doc):
            if item.kind in OBJECT_KINDS:
                builder.add(item.kind, item.raw, where=item.where)
                accepted += 1
            elif not item.kind:
                builder.warn(f"warning: {item.where}: skipped an object without a kind")
            else:
                other_kinds[item.kind] += 1
    if not documents:
        raise InputError(f"{where}: no Kubernetes objects (only comments or `---`); {EXPECTED}")
    if other_kinds:
        kinds = ", ".join(f"{k} ({n})" if n > 1 else k for k, n in sorted(other_kinds.items()))
        if not accepted:
            raise InputError(f"{where}: holds {kinds}; {EXPECTED}")
        builder.warn(f"note: {where}: ignored {kinds}: diagnose reads only Pods, Events and Nodes")
    return accepted


def load_files(sources: Sequence[str], *, builder: SnapshotBuilder, stdin: BinaryIO | None = None) -> None:
    """Read every `-f` source; `-` may appear once (stdin can only be read once)."""
    if list(sources).count("-") > 1:
        raise InputError("-f -: stdin can be given only once")
    for source in sources:
        load_file(source, builder=builder, stdin=stdin)


def load_logs_dir(root: str, *, builder: SnapshotBuilder) -> int:
    """Attach `ROOT/[<namespace>/]<pod>/<container>.log` files as previous-run logs; returns how many.

    Without a namespace directory the pod name must be unique across the loaded namespaces,
    otherwise the log could be attached to the wrong pod.
    """
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"--logs {root}: not a directory (expected DIR/<pod>/<container>.log files)")
    attached = 0
    for log in sorted(base.rglob("*.log")):
        parts = log.relative_to(base).parts
        container = log.stem
        if len(parts) == 2:
            pod_name = parts[0]
            candidates = builder.pods_named(pod_name)
        elif len(parts) == 3:
            pod_name = parts[1]
            candidates = [p for p in builder.pods_named(pod_name) if p.namespace == parts[0]]
        else:
            builder.warn(f"warning: --logs {log}: expected <pod>/<container>.log or <ns>/<pod>/<container>.log")
            continue
        if len(candidates) != 1:
            reason = "no such pod in the input" if not candidates else "pod name is in several namespaces"
            builder.warn(f"warning: --logs {log}: not used, {reason}")
            continue
        pod = candidates[0]
        if pod.container(container) is None:
            builder.warn(f"warning: --logs {log}: pod {pod.namespace}/{pod.name} has no container {container!r}")
            continue
        try:
            text = decode_bytes(log.read_bytes())
        except OSError as e:
            raise InputError(f"--logs {log}: cannot read: {e.strerror or e}") from e
        builder.add_logs(namespace=pod.namespace, pod=pod.name, container=container, text=text)
        attached += 1
    return attached


__all__ = ["EXPECTED", "load_file", "load_files", "load_logs_dir"]
