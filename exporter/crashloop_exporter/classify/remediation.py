"""Fill a cause's remediation template with the names this finding's evidence found.

The catalog writes fixes as `string.Template`s; here they get the real secret name, key, namespace
and workload. Names we could not learn stay as readable `<secret-name>` placeholders rather than
empty strings, so a command is never silently wrong. `kubectl rollout ...` only exists for
Deployments, StatefulSets and DaemonSets, so for other owners those lines become a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Template

from crashloop_exporter.catalog import Cause

ROLLOUT_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})

_PLACEHOLDERS: Mapping[str, str] = {
    "namespace": "<namespace>",
    "pod": "<pod>",
    "container": "<container>",
    "workload": "<workload>",
    "workload_ref": "deployment/<name>",
    "restart_cmd": "kubectl rollout restart deployment/<name> -n <namespace>",
    "secret": "<secret-name>",
    "key": "<key>",
    "configmap": "<configmap-name>",
    "env_var": "<ENV_VAR>",
    "image": "<image>",
    "memory_limit": "<none set>",
    "suggested_memory_limit": "1Gi",
    "suggested_memory_request": "512Mi",
    "node": "<node>",
    "resource": "the resource under pressure",
    "probe_path": "/health",
    "probe_port": "8080",
    "host": "<dependency-host>",
    "port": "<port>",
    "module": "<missing module>",
}

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i?|[kMGT]|e\d+)?$")
_FACTORS: dict[str | None, float] = {
    None: 1,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def memory_bytes(quantity: str) -> float | None:
    """Kubernetes memory quantity (`512Mi`, `1G`, `1073741824`) to bytes; None if unparseable."""
    m = _QUANTITY.match(quantity.strip())
    if not m:
        return None
    value, suffix = float(m.group(1)), m.group(2)
    if suffix and suffix.startswith("e"):
        return value * 10.0 ** int(suffix[1:])
    return value * float(_FACTORS.get(suffix, 1))


def format_mebibytes(n_bytes: float) -> str:
    """Bytes as a round Mi/Gi quantity a human would type."""
    mib = n_bytes / 2**20
    if mib >= 1024 and mib % 1024 == 0:
        return f"{int(mib // 1024)}Gi"
    return f"{int(-(-mib // 64) * 64)}Mi"  # round up to 64Mi steps


def suggest_memory(limit: str, request: str) -> tuple[str, str]:
    """(new limit, new request): double the current limit (the seed's 512Mi -> 1Gi), request half of it."""
    current = memory_bytes(limit) if limit else None
    if not current:
        return "1Gi", request or "512Mi"
    new_limit = current * 2
    return format_mebibytes(new_limit), format_mebibytes(max(new_limit / 2, memory_bytes(request) or 0))


def workload_facts(*, namespace: str, pod: str, workload_kind: str, workload: str) -> dict[str, str]:
    """`workload_ref` and `restart_cmd` for the owner kind."""
    ref = f"{workload_kind.lower()}/{workload}" if workload_kind != "Pod" else f"pod/{pod}"
    if workload_kind in ROLLOUT_KINDS:
        restart = f"kubectl rollout restart {ref} -n {namespace}"
    elif workload_kind == "Pod":
        restart = (
            f"kubectl get pod {pod} -n {namespace} -o yaml | kubectl replace --force -f -   # bare pod: re-create it"
        )
    else:
        restart = f"kubectl delete pod {pod} -n {namespace}   # its {workload_kind} creates a new one"
    return {"workload_ref": ref, "restart_cmd": restart}


def render(cause: Cause, facts: Mapping[str, str], *, workload_kind: str) -> str:
    """The cause's remediation with `facts` substituted."""
    values = dict(_PLACEHOLDERS)
    values.update({k: v for k, v in facts.items() if v})
    text = Template(cause.remediation).safe_substitute(values)
    if workload_kind in ROLLOUT_KINDS:
        return text
    lines = []
    for line in text.splitlines():
        if line.startswith("kubectl rollout"):
            lines.append(
                f"# {workload_kind} {facts.get('workload', '')} has no rollout history: fix the spec, re-apply it"
                + ("" if workload_kind == "Pod" else f" and let the {workload_kind} create new pods")
            )
        else:
            lines.append(line)
    return "\n".join(dict.fromkeys(lines))
