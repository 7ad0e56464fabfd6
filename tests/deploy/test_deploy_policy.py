"""Deploy policy: least-privilege RBAC, a locked-down pod, probes and flags that match the exporter.

These pin what SPEC.md promises operators ("RBAC asks only for get/list/watch on pods, pods/log,
events, nodes, and (for dependency chains) services and endpointslices"; non-root, read-only
filesystem) on the rendered output of every variant, kustomize overlay and chart values file alike,
so a patch in an overlay or a value of the chart cannot quietly widen access or drop a security setting.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from crashloop_exporter.cli.flags import settings_from_args
from crashloop_exporter.cli.main import build_parser
from crashloop_exporter.settings import DEFAULT_PORT
from tests.deploy.deploy_helpers import (
    ALWAYS_ACCESS,
    CORE,
    DEPENDENCY_ACCESS,
    LOG_ACCESS,
    OVERLAYS,
    SHARDED_OVERLAYS,
    UNSHARDED_OVERLAYS,
    VARIANTS,
    WORKLOAD_OVERLAYS,
    Rendered,
    Variant,
    exporter_container,
    granted_access,
    pod_spec,
    the_workload,
    walk,
    workloads,
)


def _served_paths() -> frozenset[str]:
    """The GET paths the exporter's real HTTP app routes (not a list kept beside it)."""
    from crashloop_exporter.serve.server import build_app

    def render(_accept: str) -> tuple[bytes, str]:
        return b"", "text/plain"

    app = build_app(render=render, ready=lambda: [], findings=lambda: [], causes_endpoint=True)
    return frozenset(r.resource.canonical for r in app.router.routes() if r.method == "GET" and r.resource)


SERVED_PATHS = _served_paths()


def expected_access(variant: Variant) -> dict[tuple[str, str], frozenset[str]]:
    """Exactly what a variant must grant: the base access, plus logs and dependencies when on."""
    return {**ALWAYS_ACCESS, **(LOG_ACCESS if variant.logs else {}),
            **(DEPENDENCY_ACCESS if variant.dependencies else {})}


SHARD_INDEX_FIELD = "metadata.labels['apps.kubernetes.io/pod-index']"


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_rbac_grants_exactly_the_read_access_the_exporter_uses(rendered: dict[str, Rendered], overlay: str) -> None:
    """ClusterRole = get/list/watch on pods, events, nodes, get on pods/log unless logs are off, and
    get/list/watch on services and endpointslices where dependency chains are on; nothing else."""
    assert granted_access(rendered[overlay]) == expected_access(VARIANTS[overlay])


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_no_logs_variants_drop_pods_log_and_run_with_no_logs(rendered: dict[str, Rendered], overlay: str) -> None:
    """A variant without logs has no pods/log access and runs the exporter with --no-logs; one with
    logs has both the access and no --no-logs."""
    logs = VARIANTS[overlay].logs
    assert ((CORE, "pods/log") in granted_access(rendered[overlay])) is logs
    assert ("--no-logs" in exporter_container(the_workload(rendered[overlay]))["args"]) is not logs


def test_the_no_logs_variants_exist() -> None:
    """The table above is not vacuous: both tools have a variant without logs, and a sharded one."""
    assert {v.helm for v in VARIANTS.values() if not v.logs} == {False, True}
    assert {v.helm for v in VARIANTS.values() if v.sharded} == {False, True}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nothing_grants_secrets_or_wildcards(rendered: dict[str, Rendered], overlay: str) -> None:
    """No rule anywhere mentions secrets, configmaps, a wildcard, a write verb or escalation verbs, and
    only the workload overlays carry a role at all."""
    forbidden = {"secrets", "configmaps", "*", "create", "update", "patch", "delete", "deletecollection",
                 "escalate", "bind", "impersonate"}
    roles = rendered[overlay].of_kind("ClusterRole") + rendered[overlay].of_kind("Role")
    # Only the workload overlays carry RBAC at all: one ClusterRole, for the exporter.
    assert len(roles) == (1 if overlay in WORKLOAD_OVERLAYS else 0)
    for role in roles:
        for rule in role["rules"]:
            words = set(rule.get("resources", [])) | set(rule.get("verbs", [])) | set(rule.get("apiGroups", []))
            assert not words & forbidden, f"{role['metadata']['name']}: {rule}"
            assert "nonResourceURLs" not in rule and "resourceNames" not in rule


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_binding_gives_the_role_to_the_exporter_account_only(rendered: dict[str, Rendered], overlay: str) -> None:
    """One ClusterRoleBinding: our ClusterRole to our ServiceAccount, which the pod runs as."""
    result = rendered[overlay]
    binding = result.one("ClusterRoleBinding")
    account = result.one("ServiceAccount")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": result.one("ClusterRole")["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": account["metadata"]["namespace"]}]
    assert pod_spec(the_workload(result))["serviceAccountName"] == account["metadata"]["name"]
    assert not result.of_kind("RoleBinding")


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_token_is_mounted_only_into_the_exporter_pod(rendered: dict[str, Rendered], overlay: str) -> None:
    """The ServiceAccount disables token automount; the exporter pod opts back in (it needs it)."""
    assert rendered[overlay].one("ServiceAccount")["automountServiceAccountToken"] is False
    assert pod_spec(the_workload(rendered[overlay]))["automountServiceAccountToken"] is True


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_pod_and_container_are_locked_down(rendered: dict[str, Rendered], overlay: str) -> None:
    """Non-root 65532, RuntimeDefault seccomp at pod and container level, read-only root, no
    privilege escalation, every capability dropped, 30 s grace: the "restricted" standard."""
    workload = the_workload(rendered[overlay])
    spec = pod_spec(workload)
    identity = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532}
    runtime_default = {"type": "RuntimeDefault"}
    assert identity.items() <= spec["securityContext"].items()
    assert spec["securityContext"]["seccompProfile"] == runtime_default
    context = exporter_container(workload)["securityContext"]
    assert identity.items() <= context.items()
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == runtime_default
    assert "privileged" not in context or context["privileged"] is False
    assert spec["terminationGracePeriodSeconds"] == 30
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(key)
    assert not any(isinstance(v, dict) and "hostPath" in v for v in walk(spec))
    namespaces = rendered[overlay].of_kind("Namespace")
    assert len(namespaces) == (1 if VARIANTS[overlay].namespace else 0)
    for namespace in namespaces:
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_probes_hit_real_endpoints(rendered: dict[str, Rendered], overlay: str) -> None:
    """Liveness on /healthz, readiness on /readyz, startup on /readyz with at least 5 minutes for the
    first list; all on the port named metrics, and only paths the exporter serves."""
    container = exporter_container(the_workload(rendered[overlay]))
    probes = {name: container[name] for name in ("livenessProbe", "readinessProbe", "startupProbe")}
    for name, probe in probes.items():
        assert probe["httpGet"]["port"] == "metrics", name
        assert probe["httpGet"]["path"] in SERVED_PATHS, name
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The startup probe holds liveness off until the first LIST of every resource is done.
    assert probes["startupProbe"]["httpGet"]["path"] == "/readyz"
    startup = probes["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 300


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_port_is_the_exporter_default_named_metrics(rendered: dict[str, Rendered], overlay: str) -> None:
    """Container port, --listen-address and the Service all use DEFAULT_PORT, named `metrics`."""
    container = exporter_container(the_workload(rendered[overlay]))
    assert container["ports"] == [{"name": "metrics", "containerPort": DEFAULT_PORT, "protocol": "TCP"}]
    listen = [a.split("=", 1)[1] for a in container["args"] if a.startswith("--listen-address=")]
    assert listen == [f"0.0.0.0:{DEFAULT_PORT}"]
    service = rendered[overlay].one("Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "metrics", "port": DEFAULT_PORT, "targetPort": "metrics",
                                         "protocol": "TCP"}]


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_args_use_only_flags_the_exporter_accepts(
    rendered: dict[str, Rendered], overlay: str, serve_flags: frozenset[str]
) -> None:
    """args run `serve` with flags from `crashloop-exporter serve --help`, each as --flag or --flag=value;
    CRASHLOOP_* variables name real flags; every $(VAR) is declared in env."""
    container = exporter_container(the_workload(rendered[overlay]))
    args: list[str] = container["args"]
    assert args[0] == "serve" and "command" not in container
    for arg in args[1:]:
        flag = arg.split("=", 1)[0]
        assert flag in serve_flags, f"{arg!r}: serve has no {flag} (known: {sorted(serve_flags)})"
    env_names = [e["name"] for e in container.get("env", [])]
    for name in env_names:
        if name.startswith("CRASHLOOP_"):
            assert "--" + name.removeprefix("CRASHLOOP_").lower().replace("_", "-") in serve_flags, name
    for arg in args:
        for variable in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
            assert variable in env_names, f"{arg!r} uses $({variable}), which env does not declare"


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_args_parse_into_valid_settings(rendered: dict[str, Rendered], overlay: str) -> None:
    """The exporter's own parser accepts the rendered args and their values validate (shard 0 for
    $(POD_INDEX)), so a value the chart formats wrongly fails here, not in the cluster."""
    args = [a.replace("$(POD_INDEX)", "0") for a in exporter_container(the_workload(rendered[overlay]))["args"]]
    try:
        settings_from_args(build_parser().parse_args(args))
    except SystemExit as e:
        pytest.fail(f"{overlay}: serve rejects {args} (exit {e.code})")


def test_flag_parser_sees_the_real_flags(serve_flags: frozenset[str]) -> None:
    """The flag list parsed from --help contains the contract's flags, so the test above is not vacuous."""
    assert {"--no-logs", "--shard", "--total-shards", "--log-format", "--listen-address"} <= serve_flags


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_resources_request_memory_and_cpu_without_cpu_limit(rendered: dict[str, Rendered], overlay: str) -> None:
    """Requests for cpu and memory, a memory limit at least the request, and no CPU limit (throttling
    would stall the watch loop during a relist)."""
    resources: dict[str, Any] = exporter_container(the_workload(rendered[overlay]))["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"memory"}
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}

    def size(value: str) -> int:
        number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", value).groups()  # type: ignore[union-attr]
        return int(number) * units[unit]

    assert size(resources["limits"]["memory"]) >= size(resources["requests"]["memory"])


@pytest.mark.parametrize("overlay", UNSHARDED_OVERLAYS)
def test_unsharded_runs_one_replica_with_a_surge_rollout(rendered: dict[str, Rendered], overlay: str) -> None:
    """One Deployment replica; rollouts surge so an old pod counts until the new one is ready."""
    assert [w["kind"] for w in workloads(rendered[overlay])] == ["Deployment"]
    deployment = rendered[overlay].one("Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


@pytest.mark.parametrize("overlay", SHARDED_OVERLAYS)
def test_sharded_replicas_derive_their_shard_from_the_pod_index(rendered: dict[str, Rendered], overlay: str) -> None:
    """Sharded: a StatefulSet only (no Deployment), --total-shards equal to replicas, and --shard
    taken from the pod-index label through the downward API (no shell needed)."""
    result = rendered[overlay]
    assert [w["kind"] for w in workloads(result)] == ["StatefulSet"]
    statefulset = result.one("StatefulSet")
    container = exporter_container(statefulset)
    args = container["args"]
    assert f"--total-shards={statefulset['spec']['replicas']}" in args
    assert statefulset["spec"]["replicas"] > 1
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert statefulset["spec"]["serviceName"] == result.one("Service")["metadata"]["name"]
    shard_args = [a for a in args if a.startswith("--shard=")]
    assert len(shard_args) == 1
    variable = re.fullmatch(r"--shard=\$\((\w+)\)", shard_args[0]).group(1)  # type: ignore[union-attr]
    (env,) = [e for e in container["env"] if e["name"] == variable]
    assert env["valueFrom"] == {"fieldRef": {"fieldPath": SHARD_INDEX_FIELD}}
    budget = result.one("PodDisruptionBudget")
    assert budget["spec"]["selector"] == statefulset["spec"]["selector"]


@pytest.mark.parametrize("overlay", SHARDED_OVERLAYS)
def test_sharded_pod_matches_the_base_pod_apart_from_sharding(rendered: dict[str, Rendered], overlay: str) -> None:
    """The StatefulSet's pod is the Deployment's pod plus the shard args and env, nothing else
    (probes, resources and security settings come from one place)."""
    base = rendered[VARIANTS[overlay].unsharded]
    base_pod = pod_spec(base.one("Deployment"))
    sharded_pod = pod_spec(rendered[overlay].one("StatefulSet"))
    base_container = exporter_container(base.one("Deployment"))
    sharded_container = dict(exporter_container(rendered[overlay].one("StatefulSet")))
    extra_args = [a for a in sharded_container.pop("args") if a.startswith(("--shard=", "--total-shards="))]
    assert len(extra_args) == 2
    sharded_container["args"] = base_container["args"]
    env = [e for e in sharded_container.pop("env") if e["name"] != "POD_INDEX"]
    if env or "env" in base_container:
        sharded_container["env"] = env
    assert sharded_container == base_container
    assert {k: v for k, v in sharded_pod.items() if k != "containers"} == \
        {k: v for k, v in base_pod.items() if k != "containers"}
