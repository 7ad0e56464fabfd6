"""The cause catalog: the one table in which a crash cause, and every signal that detects it, exists.

Metric label values, alert rules, Alertmanager routes, dashboard panels and the runbook
(`docs/causes.md`) are generated from, or checked against, this table. So are the classifier's
signals: waiting and terminated reasons, message wordings, event reasons, exit codes and container
types are declared here as data (`Signal`, `ExitSignal`), each wording with the Kubernetes or
runtime source that writes it, and `classify.engine` evaluates them without spelling any of them.
Adding a cause, or a kubelet wording of an old version, is one entry here plus one fixture under
`tests/fixtures/causes/`.

Order matters: `CAUSES` is sorted by `priority`, and the classifier takes the first cause whose
signals match (see `classify.engine`). Remediations are `string.Template`s (`${secret}`), filled by
`classify.remediation` with the names the evidence found; `$(...)` shell substitutions survive
because `safe_substitute` leaves them alone. Every wording is compiled when the catalog is built
(`Catalog`), so a pattern that does not compile fails at import with one sentence naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, overload

from crashloop_exporter.errors import CatalogError
from crashloop_exporter.model import ContainerType

Severity = Literal["critical", "warning", "info"]
Team = Literal["capacity", "platform", "cicd", "app"]

RUNBOOK_BASE_URL = "https://github.com/crashloop-exporter/crashloop-exporter/blob/main/docs/causes.md"

FLAGS = re.IGNORECASE | re.MULTILINE
"""Every catalog wording matches case-insensitively: kubelet and runtime messages changed case
across versions (`Couldn't find key` before `couldn't find key`)."""


class CauseId(StrEnum):
    """The built-in cause ids; the `cause` label takes only these (and test-only catalog additions)."""

    IMAGE_PULL = "image_pull"
    MISSING_SECRET = "missing_secret"
    MISSING_SECRET_KEY = "missing_secret_key"
    MISSING_CONFIGMAP = "missing_configmap"
    MISSING_CONFIGMAP_KEY = "missing_configmap_key"
    START_ERROR = "start_error"
    OOMKILLED = "oomkilled"
    NODE_PRESSURE = "node_pressure"
    LIVENESS_PROBE = "liveness_probe"
    STARTUP_PROBE = "startup_probe"
    MISSING_RUNTIME_DEPENDENCY = "missing_runtime_dependency"
    BAD_CONFIG = "bad_config"
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
    SEGFAULT = "segfault"
    SIGKILL = "sigkill"
    SIGTERM = "sigterm"
    CLEAN_EXIT = "clean_exit"
    INIT_CONTAINER_FAILED = "init_container_failed"
    APP_CRASH = "app_crash"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Wording:
    """A message pattern and where it comes from.

    `regex` is matched case-insensitively (`FLAGS`); named groups (`secret`, `configmap`, `key`,
    `volume`, `var`, `host`, `port`, `module`, `resource`) are lifted into the remediation.
    `source` names the file that writes the message (Kubernetes, a runtime, a library) and the
    versions that emit it, so a reviewer can check the wording against the real one."""

    regex: str
    source: str


SignalOn = Literal["waiting", "terminated", "pod", "event"]
When = Literal["always", "during_run", "not_running", "starting"]
"""When an event signal applies to a container:
- `always`;
- `during_run`: the event happened during (or after the start of) the run that last terminated;
- `not_running`: the container is not running (a missing config object holds back only a start);
- `starting`: the container has no status yet, waits in ContainerCreating, or waits with one of
  its cause's own waiting reasons (an image pull failure explains a start, not a crash loop)."""
ANY_TYPE: frozenset[ContainerType] = frozenset({"regular", "init", "ephemeral"})


@dataclass(frozen=True, slots=True)
class Signal:
    """One status or event fact that identifies a cause.

    `on` says what is read: the container's `state.waiting` (reason, message), its last
    termination (`state.terminated` or `lastState.terminated`), the pod's `status.reason/message`,
    or an Event about the pod. `reasons` empty means any reason (for events: any Warning event);
    `wording` None means the reason decides on its own; both set means both must match."""

    on: SignalOn
    reasons: frozenset[str] = frozenset()
    wording: Wording | None = None
    when: When = "always"
    probe: Literal["", "liveness", "startup"] = ""
    """For probe kills: whose path/port the remediation names."""
    corroborates: bool = False
    """Adds evidence only to a cause another signal already decided (an Unhealthy event quoted
    under the Killing event it led to)."""
    memory: bool = False
    """The evidence names the container's memory limit (an OOM kill)."""
    source: str = ""
    """Where a reason-only signal's reason comes from (wordings carry their own)."""


@dataclass(frozen=True, slots=True)
class ExitSignal:
    """The last termination's exit code (or signal) identifies a cause on its own."""

    codes: frozenset[int] | None
    """None: any non-zero code."""
    signals: frozenset[int] = frozenset()
    """Signal numbers (`state.terminated.signal`) that mean the same."""
    container_types: frozenset[ContainerType] = ANY_TYPE
    restarted: bool = False
    """Only a restarted container under restartPolicy Always (an exit 0 that loops)."""


@dataclass(frozen=True, slots=True)
class NodeSignal:
    """The node's pressure conditions explain a kill that happened while they held."""

    conditions: Mapping[str, str]
    """Node condition type -> the resource the remediation names."""
    killed_codes: frozenset[int]
    """Exit codes of a container killed from outside."""
    killed_reasons: frozenset[str]
    exhaustion: tuple[Wording, ...] = ()
    """Log lines of a process that died because the node ran out of PIDs, memory or disk."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One crash cause: how to recognise it, how bad it is, and how to fix it."""

    id: str
    """snake_case label value exported as `cause` (a `CauseId` for the built-ins)."""
    title: str
    """Short human name for tables and dashboard tiles."""
    help: str
    """One line: what happened."""
    priority: int
    """Lower wins when several causes match one container."""
    severity: Severity
    """Alert severity: critical pages, warning tickets, info is dashboard-only."""
    team: Team
    """Who owns the fix; the Alertmanager example routes on this."""
    summary: tuple[str, ...]
    """Human-readable list of the signals that identify the cause (runbook docs)."""
    remediation: str
    """The exact commands an SRE runs, as a `string.Template`."""
    alert_for: str
    """`for:` of the per-cause alert. A missing secret never heals by waiting; one OOM may be noise."""
    alert_min_crashes: int = 0
    """0: alert on `crashloop_container_failing`. N>0: alert when `crashloop_crashes_total`
    increased by at least N in `alert_window`, for causes where the container flaps between
    running and crashing so the failing gauge alone would be noisy."""
    alert_window: str = "30m"
    """Range of the crash-count alert when `alert_min_crashes` > 0."""
    detect: tuple[Signal, ...] = ()
    """Status and event signals."""
    exits: tuple[ExitSignal, ...] = ()
    """Exit-code signals."""
    node: NodeSignal | None = None
    """Node-condition correlation."""
    log_patterns: tuple[Wording, ...] = ()
    """Tried on the tail of the previous container's log (see `classify.logs`)."""
    config_object: Literal["", "Secret", "ConfigMap"] = ""
    """The kind of object the cause says is missing: names found in a message are looked up in the
    pod spec (which env var reads that key, which Secret a volume mounts)."""
    optional_ref: bool = False
    """The log names an env var filled from an `optional: true` ref of `config_object`: the
    object (or its key) is missing and the container started with the variable empty."""

    def __post_init__(self) -> None:
        # A plain str, not the enum: YAML and JSON writers and label sets want the value itself.
        object.__setattr__(self, "id", str(self.id))

    @property
    def anchor(self) -> str:
        """Markdown heading anchor in docs/causes.md."""
        return self.id.replace("_", "-")

    @property
    def runbook_url(self) -> str:
        return f"{RUNBOOK_BASE_URL}#{self.anchor}"

    @property
    def alert_name(self) -> str:
        """CamelCase alert name, e.g. `CrashLoopOOMKilled`."""
        special = {"oomkilled": "OOMKilled", "sigkill": "SIGKILL", "sigterm": "SIGTERM"}
        return "CrashLoop" + special.get(self.id, "".join(p.capitalize() for p in self.id.split("_")))

    @property
    def waiting_reasons(self) -> frozenset[str]:
        """Waiting reasons that decide this cause on their own."""
        return frozenset(r for s in self.detect if s.on == "waiting" and s.wording is None for r in s.reasons)

    @property
    def terminated_reasons(self) -> frozenset[str]:
        """Terminated reasons that decide this cause on their own."""
        return frozenset(r for s in self.detect if s.on == "terminated" and s.wording is None for r in s.reasons)

    @property
    def wordings(self) -> tuple[Wording, ...]:
        """Every message pattern of the cause: status, event, node and log."""
        own = tuple(s.wording for s in self.detect if s.wording is not None)
        node = self.node.exhaustion if self.node is not None else ()
        return (*own, *node, *self.log_patterns)

    @property
    def signals(self) -> tuple[str, ...]:
        """What the runbook lists: the summary, then each wording with its source."""
        seen: dict[str, str] = {}
        for w in self.wordings:
            seen.setdefault(w.regex, w.source)
        return (*self.summary, *(f"`` {rx} `` ({src})" for rx, src in seen.items()))

    @property
    def quotes_log_errors(self) -> bool:
        """Decided by a non-zero exit code alone: the log's last error line still tells a human most."""
        return any(e.codes is None or 0 not in e.codes for e in self.exits)


def _check(causes: Sequence[Cause]) -> dict[str, re.Pattern[str]]:
    """Compile every wording; CatalogError names the first bad one."""
    compiled: dict[str, re.Pattern[str]] = {}
    ids: set[str] = set()
    for c in causes:
        if c.id in ids:
            raise CatalogError(f"catalog: cause {c.id!r} is declared twice")
        ids.add(c.id)
        for w in c.wordings:
            if not w.source.strip():
                raise CatalogError(f"catalog cause {c.id}: pattern {w.regex!r} does not name its source")
            try:
                compiled[w.regex] = re.compile(w.regex, FLAGS)
            except re.error as e:
                raise CatalogError(f"catalog cause {c.id}: pattern {w.regex!r} does not compile ({e})") from e
    return compiled


class Catalog(Sequence[Cause]):
    """The causes in priority order, their compiled wordings, and the fallback causes.

    Generators and the classifier read this object when they run, not a copy taken at import, so
    `added()` (for tests) makes a new cause classified, alerted, routed and documented at once."""

    def __init__(self, causes: Sequence[Cause], *, unexplained: str, crashed: str) -> None:
        self._causes: tuple[Cause, ...] = ()
        self._rx: dict[str, re.Pattern[str]] = {}
        self._by_id: dict[str, Cause] = {}
        self.version = 0
        """Bumped on every change, so derived caches (compiled log rules) know to rebuild."""
        self._set(tuple(causes))
        for name, cid in (("unexplained", unexplained), ("crashed", crashed)):
            if cid not in self._by_id:
                raise CatalogError(f"catalog: fallback {name} names {cid!r}, which is not a cause")
        self.unexplained = unexplained
        """The cause of a failing container that no signal explains."""
        self.crashed = crashed
        """The cause of a non-zero exit that no more specific signal explains."""

    def _set(self, causes: tuple[Cause, ...]) -> None:
        rx = _check(causes)
        self._causes = tuple(sorted(causes, key=lambda c: c.priority))
        self._rx = rx
        self._by_id = {c.id: c for c in self._causes}
        self.version += 1

    @overload
    def __getitem__(self, index: int) -> Cause: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Cause]: ...
    def __getitem__(self, index: int | slice) -> Cause | Sequence[Cause]:
        return self._causes[index]

    def __len__(self) -> int:
        return len(self._causes)

    def __iter__(self) -> Iterator[Cause]:
        return iter(self._causes)

    @property
    def by_id(self) -> Mapping[str, Cause]:
        return self._by_id

    def rx(self, wording: Wording) -> re.Pattern[str]:
        """The compiled pattern of one of this catalog's wordings."""
        return self._rx[wording.regex]

    @contextmanager
    def added(self, *extra: Cause) -> Iterator[None]:
        """The catalog with `extra` causes for the duration of the block (tests: a new cause goes
        through classification, rules, routes and docs without editing them)."""
        before = self._causes
        self._set((*before, *extra))
        try:
            yield
        finally:
            self._set(before)


class _ById(Mapping[str, Cause]):
    """`BY_ID`: a live view of the catalog by id."""

    def __getitem__(self, key: str) -> Cause:
        return CAUSES.by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(CAUSES.by_id)

    def __len__(self) -> int:
        return len(CAUSES.by_id)


def W(regex: str, source: str) -> Wording:
    return Wording(regex, source)


def waiting(*reasons: str, wording: Wording | None = None, source: str = "") -> Signal:
    return Signal("waiting", frozenset(reasons), wording, source=source)


def terminated(*reasons: str, wording: Wording | None = None, memory: bool = False, source: str = "") -> Signal:
    return Signal("terminated", frozenset(reasons), wording, memory=memory, source=source)


def event(
    *reasons: str,
    wording: Wording | None = None,
    when: When = "always",
    probe: Literal["", "liveness", "startup"] = "",
    corroborates: bool = False,
) -> Signal:
    return Signal("event", frozenset(reasons), wording, when=when, probe=probe, corroborates=corroborates)


def _config(*wordings: Wording) -> tuple[Signal, ...]:
    """A missing config object: the kubelet says so in the waiting message (any reason: it is
    CreateContainerConfigError since v1.8, RunContainerError or the reason itself before) and in
    Failed/FailedMount/FailedSync events while the container is not running."""
    return tuple(
        s for w in wordings for s in (Signal("waiting", wording=w), Signal("event", wording=w, when="not_running"))
    )


# ---- sources ------------------------------------------------------------------------------------
_K_ENV = (
    "kubelet pkg/kubelet/kubelet_pods.go makeEnvironmentVariables: `couldn't find key %v in Secret %v/%v` "
    "v1.8+ (`Couldn't` in v1.5-v1.7), as waiting message (CreateContainerConfigError) and Failed event "
    "`Error: ...`; dockershim `GenerateRunContainerOptions: ...` in RunContainerError/FailedSync (<= v1.9)"
)
_K_NOTFOUND = (
    'apiserver NotFound (`<resource> "<name>" not found`, staging/src/k8s.io/apimachinery/pkg/api/errors) '
    "through the kubelet's secret/configmap managers (singular `secret`) or a client GET (plural "
    "`secrets`), v1.6+; quoted and escaped inside FailedSync/StartContainer wrappers"
)
_K_MOUNT = (
    "kubelet pkg/volume/secret/secret.go and pkg/volume/configmap/configmap.go SetUpAt, FailedMount "
    '`MountVolume.SetUp failed for volume "v" : ...`, v1.7+'
)
_K_IMAGES = "kubelet pkg/kubelet/images/image_manager.go (Failed / BackOff events), v1.10+"
_K_PROBE = "kubelet pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions (Killing event), v1.16+"
_K_PROBER = "kubelet pkg/kubelet/prober/prober.go (Unhealthy event `<Kind> probe failed: ...`), v1.14+"
_K_REASONS = "kubelet pkg/kubelet/kuberuntime/kuberuntime_container.go and pkg/kubelet/images/types.go"
_RUNTIME_REASONS = (
    "runtime terminated reasons: containerd/CRI-O `StartError` (v1.20+ with CRI), dockershim "
    "`ContainerCannotRun` (<= v1.23)"
)
_RUNTIME_EXEC = (
    'runc libcontainer `exec: "%s": executable file not found in $PATH` / `no such file or '
    "directory`, wrapped by containerd `failed to create shim task: OCI runtime create failed: runc "
    "create failed: unable to start container process: ...` (runc 1.1+), docker `starting container "
    "process caused: ...` (runc <= 1.0) and CRI-O `container create failed: ...`"
)
_K_EVICT = (
    "kubelet pkg/kubelet/eviction/helpers.go: status.reason `Evicted`, `The node was low on resource: %v. ` "
    "and `The node had condition: %v. `, v1.9+"
)
_LOG = "application log"


def _logs(source: str, *regexes: str) -> tuple[Wording, ...]:
    return tuple(Wording(r, source) for r in regexes)


_ROLLBACK = "kubectl rollout undo ${workload_ref} -n ${namespace}   # meanwhile, back to the last good revision"
_VERIFY = "kubectl rollout status ${workload_ref} -n ${namespace}"

_BUILTIN: tuple[Cause, ...] = (
    Cause(
        id=CauseId.IMAGE_PULL,
        title="Image pull failed",
        help="The kubelet cannot pull the container image (wrong name or tag, missing pull secret, registry down).",
        priority=10,
        severity="critical",
        team="cicd",
        summary=(
            "waiting reason ErrImagePull, ImagePullBackOff, InvalidImageName or ErrImageNeverPull",
            "Failed event `Failed to pull image ...`",
        ),
        remediation="\n".join(
            (
                "kubectl describe pod ${pod} -n ${namespace} | grep -A 3 'Failed to pull'   # tag, auth or registry?",
                "# image in the spec: ${image}",
                "kubectl set image ${workload_ref} ${container}=<registry>/<image>:<existing-immutable-tag> -n ${namespace}",
                "kubectl get secret <pull-secret> -n ${namespace}   # private registry: imagePullSecrets must exist here",
                _ROLLBACK,
            )
        ),
        alert_for="5m",
        detect=(
            waiting("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", source=_K_REASONS),
            event(
                wording=W(
                    r"Failed to pull image|ErrImagePull|ImagePullBackOff|InvalidImageName|Back-off pulling image",
                    _K_IMAGES,
                ),
                when="starting",
            ),
        ),
    ),
    Cause(
        id=CauseId.MISSING_SECRET,
        title="Missing Secret",
        help="A Secret the pod needs does not exist in its namespace (or an optional secret env var is empty).",
        priority=20,
        severity="critical",
        team="platform",
        summary=(
            'waiting CreateContainerConfigError with `secret "X" not found`',
            'FailedMount event `secret "X" not found`',
            "the log names an env var that the spec fills from a Secret with `optional: true`",
        ),
        remediation="\n".join(
            (
                "kubectl get secret ${secret} -n ${namespace}",
                "# NEVER put real secrets in shell history: prefer your secrets manager / External Secrets",
                "kubectl create secret generic ${secret} --from-literal=${key}=<value> -n ${namespace}",
                "${restart_cmd}",
                _VERIFY,
            )
        ),
        alert_for="2m",
        detect=_config(W(r'secrets? \\?"(?P<secret>[^"\\]+)\\?" not found', _K_NOTFOUND)),
        config_object="Secret",
        optional_ref=True,
    ),
    Cause(
        id=CauseId.MISSING_SECRET_KEY,
        title="Missing key in Secret",
        help="The Secret exists but lacks the key a secretKeyRef asks for.",
        priority=30,
        severity="critical",
        team="platform",
        summary=("`couldn't find key K in Secret ns/name` (waiting message or Failed event)",),
        remediation="\n".join(
            (
                "kubectl get secret ${secret} -n ${namespace} -o jsonpath='{.data}' | "
                'python3 -c "import sys, json; print(list(json.load(sys.stdin).keys()))"',
                "kubectl patch secret ${secret} -n ${namespace} --type='json' "
                '-p=\'[{"op":"add","path":"/data/${key}","value":"\'$(echo -n \'<value>\' | base64)\'"}]\'',
                "${restart_cmd}",
                _VERIFY,
            )
        ),
        alert_for="2m",
        detect=_config(
            W(r"couldn't find key (?P<key>[^\s\"\\]+) in Secret (?P<ns>[^/\s]+)/(?P<secret>[^\s\"\\]+)", _K_ENV),
            W(
                r'for volume \\?"(?P<volume>[^"\\]+)\\?" : references non-existent secret key: (?P<key>[^\s"\\]+)',
                _K_MOUNT,
            ),
        ),
        config_object="Secret",
    ),
    Cause(
        id=CauseId.MISSING_CONFIGMAP,
        title="Missing ConfigMap",
        help="A ConfigMap the pod needs does not exist in its namespace.",
        priority=40,
        severity="critical",
        team="platform",
        summary=(
            '`configmap "X" not found` (CreateContainerConfigError or FailedMount)',
            "the log names an env var filled from a ConfigMap ref with `optional: true`",
        ),
        remediation="\n".join(
            (
                "kubectl get configmap ${configmap} -n ${namespace}",
                "kubectl create configmap ${configmap} --from-file=<config-file> -n ${namespace}   # or apply it from Git",
                "${restart_cmd}",
                _VERIFY,
            )
        ),
        alert_for="2m",
        detect=_config(W(r'configmaps? \\?"(?P<configmap>[^"\\]+)\\?" not found', _K_NOTFOUND)),
        config_object="ConfigMap",
        optional_ref=True,
    ),
    Cause(
        id=CauseId.MISSING_CONFIGMAP_KEY,
        title="Missing key in ConfigMap",
        help="The ConfigMap exists but lacks the key a configMapKeyRef asks for.",
        priority=50,
        severity="critical",
        team="platform",
        summary=("`couldn't find key K in ConfigMap ns/name`",),
        remediation="\n".join(
            (
                "kubectl get configmap ${configmap} -n ${namespace} -o jsonpath='{.data}'",
                'kubectl patch configmap ${configmap} -n ${namespace} --type merge -p \'{"data":{"${key}":"<value>"}}\'',
                "${restart_cmd}",
                _VERIFY,
            )
        ),
        alert_for="2m",
        detect=_config(
            W(r"couldn't find key (?P<key>[^\s\"\\]+) in ConfigMap (?P<ns>[^/\s]+)/(?P<configmap>[^\s\"\\]+)", _K_ENV),
            W(
                r'for volume \\?"(?P<volume>[^"\\]+)\\?" : configmap references non-existent config key: '
                r'(?P<key>[^\s"\\]+)',
                _K_MOUNT,
            ),
        ),
        config_object="ConfigMap",
    ),
    Cause(
        id=CauseId.START_ERROR,
        title="Container cannot start",
        help="The runtime could not start the process: bad entrypoint, missing binary, wrong architecture.",
        priority=60,
        severity="critical",
        team="cicd",
        summary=(
            "terminated reason StartError or ContainerCannotRun",
            "waiting reason RunContainerError or CreateContainerError",
            "logs: `exec format error`, `executable file not found in $PATH`, "
            "`no such file or directory` for the entrypoint",
        ),
        remediation="\n".join(
            (
                "kubectl describe pod ${pod} -n ${namespace}   # the runtime message names the binary or the bad format",
                "kubectl get ${workload_ref} -n ${namespace} -o jsonpath="
                "'{.spec.template.spec.containers[?(@.name==\"${container}\")].command}'",
                "# fix command/args or the image ENTRYPOINT (`exec format error` = image built for another CPU arch)",
                "kubectl set image ${workload_ref} ${container}=<registry>/<image>:<fixed-tag> -n ${namespace}",
                _ROLLBACK,
            )
        ),
        alert_for="5m",
        log_patterns=_logs(
            "runc/shell messages a wrapper entrypoint prints (`exec: ...`, `sh: ...: not found`)",
            r"exec format error",
            r"executable file not found in \$PATH",
            # runc libcontainer/standard_init_linux.go: `exec user process caused "no such file or directory"`
            # (runc 1.0-rc, docker 18.x/19.x; later `exec user process caused: no such file or directory`).
            r"exec user process caused:? \"?(?:no such file or directory|permission denied)",
            r"exec: \"?(?P<module>[^\s\"]+)\"?: (?:stat [^:]+: )?no such file or directory",
            r"^exec (?P<module>/\S+): no such file or directory",
            r"^(?:/bin/)?(?:ba)?sh: (?:\d+: )?(?:exec: )?(?P<module>\S+): (?:not found|No such file or directory)",
        ),
        detect=(
            waiting(
                "RunContainerError",
                "CreateContainerError",
                "PreStartHookError",
                "PostStartHookError",
                source=_K_REASONS,
            ),
            terminated("StartError", "ContainerCannotRun", source=_RUNTIME_REASONS),
            Signal(
                "waiting", wording=W(r'exec: \\?"(?P<module>[^"\\]+)\\?": executable file not found', _RUNTIME_EXEC)
            ),
            Signal(
                "terminated", wording=W(r'exec: \\?"(?P<module>[^"\\]+)\\?": executable file not found', _RUNTIME_EXEC)
            ),
        ),
    ),
    Cause(
        id=CauseId.OOMKILLED,
        title="OOMKilled",
        help="The kernel OOM killer stopped the container at its memory limit (exit 137, reason OOMKilled).",
        priority=70,
        severity="warning",
        team="capacity",
        summary=("last terminated reason OOMKilled (exit code 137)",),
        remediation="\n".join(
            (
                "kubectl top pod ${pod} --containers -n ${namespace}",
                "kubectl get pod ${pod} -n ${namespace} -o jsonpath="
                "'{.spec.containers[?(@.name==\"${container}\")].resources}'   # limit now: ${memory_limit}",
                "kubectl set resources ${workload_ref} -c ${container} --limits=memory=${suggested_memory_limit} "
                "--requests=memory=${suggested_memory_request} -n ${namespace}",
                "# a leak, not an undersized limit? profile the heap (pprof, jmap, memory_profiler) and size from "
                "VPA recommendations: kubectl get vpa -n ${namespace} -o yaml | grep -A 10 recommendation",
            )
        ),
        alert_for="0m",
        alert_min_crashes=2,
        alert_window="30m",
        detect=(terminated("OOMKilled", memory=True, source=_RUNTIME_REASONS + "; kernel OOM killer via the runtime"),),
    ),
    Cause(
        id=CauseId.NODE_PRESSURE,
        title="Node pressure",
        help="The node ran out of memory, disk or PIDs and evicted or killed the pod.",
        priority=80,
        severity="warning",
        team="capacity",
        summary=(
            "pod status reason Evicted (the message names the resource)",
            "the node had MemoryPressure, DiskPressure or PIDPressure when the container was killed",
        ),
        remediation="\n".join(
            (
                "kubectl describe node ${node} | grep -A 10 Conditions",
                "kubectl get pods -A --field-selector spec.nodeName=${node}   # other victims on this node",
                "kubectl top node ${node}",
                "kubectl cordon ${node}   # stop new pods landing there while you free ${resource}",
                "# set requests that match real usage so the scheduler stops overcommitting the node",
            )
        ),
        alert_for="5m",
        detect=(
            Signal("pod", frozenset({"Evicted"}), W(r"low on resource: (?P<resource>[\w-]+)", _K_EVICT)),
            Signal("pod", frozenset({"Evicted"}), W(r"had condition: \[?(?P<resource>\w+)", _K_EVICT)),
            Signal("pod", frozenset({"Evicted"}), source=_K_EVICT),
        ),
        node=NodeSignal(
            conditions={"MemoryPressure": "memory", "DiskPressure": "disk", "PIDPressure": "pids"},
            killed_codes=frozenset({137, 143}),
            killed_reasons=frozenset({"ContainerStatusUnknown", "Evicted"}),
            exhaustion=_logs(
                "Go runtime, glibc/musl fork, CPython threading, JVM, libc ENOMEM/ENOSPC strerror",
                r"failed to create new OS thread|pthread_create failed|fork: (?:retry: )?Resource temporarily unavailable|"
                r"can't start new thread|unable to create (?:new )?native thread|Cannot allocate memory|"
                r"No space left on device",
            ),
        ),
    ),
    Cause(
        id=CauseId.LIVENESS_PROBE,
        title="Liveness probe kill",
        help="The kubelet restarted the container because its liveness probe failed.",
        priority=90,
        severity="warning",
        team="app",
        summary=(
            "Killing event `Container C failed liveness probe, will be restarted`",
            "Unhealthy event `Liveness probe failed: ...`",
        ),
        remediation="\n".join(
            (
                "kubectl describe pod ${pod} -n ${namespace} | grep -E 'Liveness|Unhealthy|Killing'",
                "kubectl exec ${pod} -n ${namespace} -c ${container} -- wget -qO- http://localhost:${probe_port}${probe_path}",
                "kubectl logs ${pod} -n ${namespace} -c ${container} | grep -i 'listen\\|ready\\|started\\|binding'"
                "   # real startup time",
                "# fix the probe path/port; set initialDelaySeconds >= 120% of worst-case startup or add a "
                "startupProbe (failureThreshold: 30, periodSeconds: 5)",
                "kubectl apply -f deployment.yaml && " + _VERIFY,
            )
        ),
        alert_for="0m",
        alert_min_crashes=3,
        alert_window="30m",
        detect=(
            event("Killing", wording=W(r"failed liveness probe", _K_PROBE), when="during_run", probe="liveness"),
            event("Unhealthy", wording=W(r"^Liveness probe failed", _K_PROBER), when="during_run", corroborates=True),
        ),
    ),
    Cause(
        id=CauseId.STARTUP_PROBE,
        title="Startup probe kill",
        help="The kubelet restarted the container because its startup probe never succeeded.",
        priority=100,
        severity="warning",
        team="app",
        summary=("Killing event `Container C failed startup probe, will be restarted`",),
        remediation="\n".join(
            (
                "kubectl describe pod ${pod} -n ${namespace} | grep -E 'Startup|Unhealthy|Killing'",
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous | tail -20   # how far startup got",
                "# raise startupProbe failureThreshold x periodSeconds above worst-case startup, check path/port "
                "${probe_path}",
                "kubectl apply -f deployment.yaml && " + _VERIFY,
            )
        ),
        alert_for="0m",
        alert_min_crashes=3,
        alert_window="30m",
        detect=(
            event("Killing", wording=W(r"failed startup probe", _K_PROBE), when="during_run", probe="startup"),
            event("Unhealthy", wording=W(r"^Startup probe failed", _K_PROBER), when="during_run", corroborates=True),
        ),
    ),
    Cause(
        id=CauseId.MISSING_RUNTIME_DEPENDENCY,
        title="Missing runtime dependency",
        help="The image lacks a module, shared library or class the program needs.",
        priority=110,
        severity="critical",
        team="app",
        summary=(
            "logs: ModuleNotFoundError / ImportError (Python)",
            "logs: `error while loading shared libraries` (ELF)",
            "logs: `Cannot find module` (Node.js)",
            "logs: `Could not find or load main class`, ClassNotFoundException, NoClassDefFoundError (Java)",
        ),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous   # names the missing piece: ${module}",
                "# add it to the image (requirements.txt, package.json, apt/apk package, classpath) and rebuild "
                "with an immutable tag",
                "kubectl set image ${workload_ref} ${container}=<registry>/<image>:<fixed-sha> -n ${namespace}",
                _ROLLBACK,
            )
        ),
        alert_for="5m",
        log_patterns=_logs(
            "language loaders: CPython import system, glibc ld.so, Node.js module loader, JVM launcher, Ruby require",
            r"ModuleNotFoundError: No module named '(?P<module>[^']+)'",
            r"ImportError: (?:cannot import name '(?P<module>[^']+)'|No module named (?P<module2>\S+)|.*)",
            r"error while loading shared libraries: (?P<module>[^:]+):",
            r"Error: Cannot find module '(?P<module>[^']+)'",
            r"Could not find or load main class (?P<module>\S+)",
            r"java\.lang\.ClassNotFoundException: (?P<module>\S+)",
            r"java\.lang\.NoClassDefFoundError: (?P<module>\S+)",
            r"ERR_MODULE_NOT_FOUND.*?'(?P<module>[^']+)'",
            r"cannot load such file -- (?P<module>[^\s()]+)",
        )
        + _logs(
            "glibc elf/dl-version.c `%s: version `%s' not found (required by %s)` (quote style differs by glibc)",
            r"version [`'\u2018](?P<module>(?:GLIBC|GLIBCXX|CXXABI|OPENSSL)_[\w.]+)['\u2019] not found \(required by",
        )
        + _logs(
            "musl ldso/dynlink.c `Error relocating %s: %s: symbol not found` / `Error loading shared library %s: %m` (Alpine)",
            r"Error relocating (?P<module>[^:\s]+): \S+: symbol not found",
            r"Error loading shared library (?P<module>[^:\s]+): No such file or directory",
        ),
    ),
    Cause(
        id=CauseId.BAD_CONFIG,
        title="Bad config or env var",
        help="The program rejected its configuration: a required setting is missing or invalid.",
        priority=120,
        severity="critical",
        team="app",
        summary=(
            "logs: `environment variable is not set`, `Missing required environment variable`, `invalid value for`",
            "logs: Python `KeyError: 'X'` on os.environ, `invalid literal for int()` from a setting",
            "logs: Spring `Could not resolve placeholder`, YAML/JSON config parse errors, unknown flags",
        ),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous   # the setting it rejected: ${env_var}",
                "kubectl get ${workload_ref} -n ${namespace} -o yaml | grep -A 60 'env:'",
                "kubectl set env ${workload_ref} -c ${container} ${env_var}=<correct-value> -n ${namespace}",
                _VERIFY,
            )
        ),
        alert_for="5m",
        log_patterns=_logs(
            "application config loaders: Go flag/kingpin/cobra, Python os.environ/int(), Spring placeholders, PyYAML, JSON, nginx",
            r"missing required (?:environment|env) variable[:\s]+\"?(?-i:(?P<var>[A-Z][A-Z0-9_]*))",
            r"(?-i:(?P<var>\b[A-Z][A-Z0-9_]{2,}))\b\"? (?:environment variable|env var)? ?(?:is )?(?:not set|unset|missing|"
            r"is required|must be set|is empty)",
            r"(?:environment variable|env var)s? \"?(?-i:(?P<var>[A-Z][A-Z0-9_]*))\"? (?:is )?(?:not set|not defined|"
            r"missing|required|must be set|is empty|undefined)",
            r"invalid value (?:for|of) (?:setting |env(?:ironment)? (?:variable )?)?\"?(?P<var>[A-Za-z][A-Za-z0-9_.-]*)",
            r"KeyError: '(?-i:(?P<var>[A-Z][A-Z0-9_]*))'",
            r"invalid literal for int\(\) with base \d+",
            r"Could not resolve placeholder '(?P<var>[^']+)'",
            r"yaml\.(?:scanner|parser|constructor)\.\w+Error|(?:ScannerError|ParserError): .*(?:while scanning|"
            r"while parsing)",
            r"(?:error|failed) (?:parsing|to parse|loading|to load) (?:config|configuration|settings)",
            r"json\.decoder\.JSONDecodeError|SyntaxError: (?:Unexpected token .* in JSON|JSON\.parse)",
            r"flag provided but not defined: -?(?P<var>\S+)",
            r"unknown (?:long |short )?(?:flag|option|shorthand flag)[:\s]+'?-{0,2}(?P<var>[\w.-]+)",
            r"\[emerg\].*(?:unknown directive|invalid|unexpected|not allowed|no \"\w+\" is defined|directive is duplicate)",
            r"unrecognized arguments?: (?P<var>\S+)",
            r"(?:config|configuration) (?:file )?(?:validation )?(?:error|invalid)",
            r"strconv\.Atoi: parsing \"[^\"]*\": invalid syntax",
        )
        + _logs("spf13/viper ConfigParseError `While parsing config: %s` (v1.x)", r"While parsing config: ")
        + _logs(
            "Prometheus/Alertmanager cmd main.go `Loading configuration file failed` (all versions); go-yaml "
            "(gopkg.in/yaml.v2/v3) parser errors `yaml: line %d: %s` that a daemon prints as its fatal error",
            r"Loading configuration file failed",
            r"\byaml: line \d+: (?:could not find|did not find|mapping values|found character|block sequence|"
            r"cannot unmarshal|found unexpected)",
        )
        + _logs(
            "Rails railties application.rb `Missing `secret_key_base` for '%s' environment` (Rails 4.1+)",
            r"Missing [`']?secret_key_base[`']? for '\w+' environment",
        )
        + _logs(
            "Elasticsearch BootstrapChecks.java `bootstrap check failure` / `max virtual memory areas "
            "vm.max_map_count [%d] is too low` (5.x-8.x)",
            r"max virtual memory areas vm\.max_map_count \[\d+\] is too low",
            r"bootstrap checks? failed",
        )
        + _logs(
            "nginx src/core/ngx_conf_file.c `nginx: [emerg] ...` (1.x); an unresolvable upstream is a dependency",
            r"\[emerg\](?!.*host not found in upstream)",
        )
        + _logs(
            "Redis src/config.c `*** FATAL CONFIG FILE ERROR ***` (all), src/sentinel.c config-file checks",
            r"FATAL CONFIG FILE ERROR",
            r"Sentinel needs config file on disk|Sentinel config file \S+ is not writable",
        )
        + _logs(
            "Spring Boot BindFailureAnalyzer `Failed to bind properties under '%s'` (2.x-3.x)",
            r"Failed to bind properties under '(?P<var>[^']+)'",
        )
        + _logs(
            "serde / serde_json / serde_yaml de::Error (`missing field `x` at line 1 column 2`)",
            r"(?:missing|unknown|duplicate) field `(?P<var>\w+)`",
        )
        + _logs(
            "Go encoding/json UnmarshalTypeError / SyntaxError (Go 1.x)",
            r"json: cannot unmarshal \w+ into Go (?:struct field|value of type) (?P<var>\S+)",
            r"invalid character '.{1,4}' (?:looking for beginning of|after|in)",
        )
        + _logs(
            "PostgreSQL src/backend/utils/misc/guc-file.l and guc.c (9.x-17)",
            r"configuration file \"[^\"]+\" contains errors",
            r"unrecognized configuration parameter \"(?P<var>[^\"]+)\"",
        )
        + _logs(
            "MySQL mysys/my_getopt.c `unknown variable '%s'` (5.7, 8.0 `[MY-000067]`), mysys/my_default.cc",
            r"unknown variable '(?P<var>[^'=]+)",
            r"Found option without preceding group in config file",
        )
        + _logs(
            "Apache Kafka clients ConfigDef.java ConfigException (0.9+)",
            r"ConfigException: (?:Missing required configuration \"(?P<var>[^\"]+)\"|Invalid value .* for configuration "
            r"(?P<var2>\S+))",
        ),
    ),
    Cause(
        id=CauseId.DEPENDENCY_UNAVAILABLE,
        title="Dependency unavailable",
        help="The program exited because a service it needs at startup did not answer.",
        priority=130,
        severity="warning",
        team="app",
        summary=(
            "logs: connection refused / ECONNREFUSED / `no such host` / ENOTFOUND / `could not connect` / "
            "`i/o timeout` / `context deadline exceeded` toward another service",
            "probe events that say `connection refused` are NOT dependency evidence",
        ),
        remediation="\n".join(
            (
                "kubectl run debug --image=busybox:1.35 --restart=Never --rm -it -n ${namespace} -- nslookup ${host}",
                "kubectl run debug --image=busybox:1.35 --restart=Never --rm -it -n ${namespace} -- nc -zv ${host} ${port}",
                "kubectl get networkpolicies -n ${namespace}",
                "# fix the dependency first; then gate startup on it with an init container:",
                "#   until nc -z ${host} ${port}; do echo waiting for ${host}; sleep 3; done",
            )
        ),
        alert_for="10m",
        log_patterns=_logs(
            "client libraries: Go net dial, Node.js net/dns, libpq/psycopg, JDBC/HikariCP, glibc resolver, curl",
            r"(?:dial tcp|connect to|connecting to|connection to) \[?(?P<host>[\w.-]+)\]?:(?P<port>\d+).*"
            r"(?:connection refused|i/o timeout|no such host|timed out|no route to host)",
            r"connect ECONNREFUSED (?P<host>[\w.:-]+?):(?P<port>\d+)",
            r"getaddrinfo ENOTFOUND (?P<host>[\w.-]+)",
            r"lookup (?P<host>[\w.-]+)(?: on [\d.:]+)?: no such host",
            r"could not connect to (?:server|database|redis|broker|host)\b",
            r"could not translate host name \"(?P<host>[^\"]+)\"",
            r"connection to server at \"(?P<host>[^\"]+)\".*?port (?P<port>\d+) failed",
            r"Is the server running on host \"?(?P<host>[\w.-]+)\"?(?:.*?port (?P<port>\d+))?",
            r"TCP/IP connections on port (?P<port>\d+)",
            r"Connection refused|ECONNREFUSED|ConnectionRefusedError",
            r"Error connecting to (?P<host>[\w.-]+):(?P<port>\d+)",
            r"Communications link failure|Connection is not available, request timed out",
            r"(?:context deadline exceeded|i/o timeout)",
            r"Name or service not known|Temporary failure in name resolution|nodename nor servname provided",
            r"curl: \(\d+\) (?:Failed to connect to (?P<host>[\w.-]+) port (?P<port>\d+)|Could not resolve host: "
            r"(?P<host2>[\w.-]+)|Connection timed out)",
            r"(?:kafka|amqp|redis|mongo\w*|postgres\w*|mysql)\S*.*(?:unreachable|unavailable|refused|timed out)",
        )
        + _logs(
            "Envoy router local reply (istio-proxy/Envoy sidecar not ready or no endpoint), Envoy 1.x",
            r"upstream connect error or disconnect/reset before headers",
            r"no healthy upstream",
        )
        + _logs(
            "resolvers: Node.js dns EAI_AGAIN, Go net DNSError, JDK UnknownHostException, MySQL CR_UNKNOWN_HOST, "
            "urllib3 2.x NameResolutionError, Rust getaddrinfo, nginx upstream resolution",
            r"getaddrinfo EAI_AGAIN (?P<host>[\w.-]+)",
            r"lookup (?P<host>[\w.-]+)(?: on [\d.:]+)?: (?:server misbehaving|i/o timeout|read udp)",
            r"java\.net\.UnknownHostException: (?P<host>[\w.-]+)",
            r"Unknown MySQL server host '(?P<host>[^']+)'",
            r"Failed to resolve '(?P<host>[^']+)'",
            r"failed to lookup address information",
            r"host not found in upstream \"(?P<host>[\w.-]+)(?::(?P<port>\d+))?\"",
        ),
    ),
    Cause(
        id=CauseId.SEGFAULT,
        title="Segmentation fault",
        help="The process died of SIGSEGV (exit 139): a native crash.",
        priority=140,
        severity="warning",
        team="app",
        summary=("exit code 139 (SIGSEGV) with no more specific evidence",),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous",
                "# exit 139 = SIGSEGV in native code: check what changed in the image, base image or native libs",
                _ROLLBACK,
            )
        ),
        alert_for="0m",
        alert_min_crashes=2,
        exits=(ExitSignal(frozenset({139}), frozenset({11})),),
    ),
    Cause(
        id=CauseId.SIGKILL,
        title="Killed (SIGKILL)",
        help="The process was killed with SIGKILL (exit 137) but not by the OOM killer or a probe.",
        priority=150,
        severity="warning",
        team="app",
        summary=("exit code 137 without OOMKilled and without a probe kill",),
        remediation="\n".join(
            (
                "kubectl get events -n ${namespace} --field-selector involvedObject.name=${pod} "
                "--sort-by=.lastTimestamp",
                "kubectl describe node ${node} | grep -A 10 Conditions",
                "# killed from outside (kubectl delete --grace-period=0, a runtime kill after "
                "terminationGracePeriodSeconds, a node shutdown): handle SIGTERM promptly or raise the grace period",
            )
        ),
        alert_for="0m",
        alert_min_crashes=3,
        exits=(ExitSignal(frozenset({137}), frozenset({9})),),
    ),
    Cause(
        id=CauseId.SIGTERM,
        title="Terminated (SIGTERM)",
        help="The process exited on SIGTERM (exit 143) without a probe kill: it was asked to stop.",
        priority=160,
        severity="info",
        team="app",
        summary=("exit code 143 without a probe kill",),
        remediation="\n".join(
            (
                "kubectl get events -n ${namespace} --field-selector involvedObject.name=${pod} "
                "--sort-by=.lastTimestamp",
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous | tail -20",
                "# something inside the pod (a supervisor, a preStop hook, the app itself) sent SIGTERM; "
                "exit 0 on a graceful shutdown",
            )
        ),
        alert_for="0m",
        alert_min_crashes=3,
        exits=(ExitSignal(frozenset({143}), frozenset({15})),),
    ),
    Cause(
        id=CauseId.CLEAN_EXIT,
        title="Exited 0 but restarted",
        help="The main process exited 0 (Completed) under restartPolicy Always, so the kubelet restarts it.",
        priority=170,
        severity="warning",
        team="app",
        summary=("exit code 0 (reason Completed) on a container that is restarted",),
        remediation="\n".join(
            (
                "kubectl get ${workload_ref} -n ${namespace} -o jsonpath="
                "'{.spec.template.spec.containers[?(@.name==\"${container}\")].command}'",
                "# keep the main process in the foreground (no trailing `&`, no daemonize), "
                "or run one-shot work as a Job or CronJob",
            )
        ),
        alert_for="15m",
        detect=(),
        exits=(ExitSignal(frozenset({0}), container_types=frozenset({"regular"}), restarted=True),),
    ),
    Cause(
        id=CauseId.INIT_CONTAINER_FAILED,
        title="Init container failed",
        help="An init container exited non-zero, so the pod never reaches its app containers (Init:CrashLoopBackOff).",
        priority=180,
        severity="critical",
        team="app",
        summary=("an init container failed and no more specific cause above applies",),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -c ${container} --previous -n ${namespace}",
                "# fix what the init step reports (migration, secret store, pre-flight check), then:",
                "kubectl rollout restart ${workload_ref} -n ${namespace}",
                _VERIFY,
            )
        ),
        alert_for="5m",
        exits=(ExitSignal(None, container_types=frozenset({"init"})),),
    ),
    Cause(
        id=CauseId.APP_CRASH,
        title="Application crash",
        help="The program exited non-zero: a traceback, panic, uncaught exception, or exit 1 with no logs.",
        priority=190,
        severity="warning",
        team="app",
        summary=("any other non-zero exit of a regular container",),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous",
                "kubectl get pod ${pod} -n ${namespace} -o jsonpath="
                "'{.status.containerStatuses[?(@.name==\"${container}\")].lastState.terminated.exitCode}'",
                _ROLLBACK,
                "kubectl debug -it ${pod} --copy-to=debug-pod --container=${container} -n ${namespace} -- /bin/sh",
            )
        ),
        alert_for="10m",
        exits=(ExitSignal(None, container_types=frozenset({"regular", "ephemeral"})),),
    ),
    Cause(
        id=CauseId.UNKNOWN,
        title="Unknown",
        help="The container is failing but no termination, waiting reason or event explains it yet.",
        priority=1000,
        severity="info",
        team="app",
        summary=("failing, but nothing above matched",),
        remediation="\n".join(
            (
                "kubectl describe pod ${pod} -n ${namespace}",
                "kubectl get events -n ${namespace} --sort-by=.lastTimestamp",
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous",
            )
        ),
        alert_for="15m",
    ),
)

CAUSES = Catalog(_BUILTIN, unexplained=CauseId.UNKNOWN, crashed=CauseId.APP_CRASH)
"""The catalog, in priority order (a live `Sequence[Cause]`, see `Catalog`)."""
BY_ID: Mapping[str, Cause] = _ById()
CAUSE_IDS: frozenset[str] = frozenset(CauseId)
"""The built-in cause ids."""

FAILING_WAITING: frozenset[str] = frozenset(
    {
        # SPEC "Rules of classification": the waiting states in which a container is failing.
        # Reasons from pkg/kubelet/kuberuntime/kuberuntime_container.go, pkg/kubelet/images/types.go
        # and pkg/kubelet/container/sync_result.go (v1.20+, same names since v1.7).
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "PreStartHookError",
        "PostStartHookError",
    }
)
CREATING = "ContainerCreating"
"""The waiting reason of a container the kubelet is still setting up (volumes, sandbox, image)."""
PULLING_EVENT = "Pulling"
"""kubelet pkg/kubelet/images/image_manager.go `Pulling image "x"`: a pull is under way."""
HOLDING_EVENTS: frozenset[str] = frozenset(
    {
        # Events that hold a container in ContainerCreating (SPEC: "held by a FailedMount or another
        # failure event"): volume setup (pkg/kubelet/volumemanager, FailedMount/FailedAttachVolume),
        # sandbox (pkg/kubelet/kuberuntime/kuberuntime_manager.go FailedCreatePodSandBox), image
        # pulls (Failed, BackOff `Back-off pulling image`), and the pre-1.10 FailedSync wrapper.
        "FailedMount",
        "FailedAttachVolume",
        "FailedMapVolume",
        "FailedCreatePodSandBox",
        "FailedCreatePodContainer",
        "Failed",
        "BackOff",
        "FailedSync",
        "ErrImagePull",
    }
)
EXPLAINING_EVENTS: frozenset[str] = HOLDING_EVENTS.union(
    {"Killing", "Unhealthy", "Evicted", "Preempting", "OOMKilling"},
    *(s.reasons for c in _BUILTIN for s in c.detect if s.on == "event"),
)
"""Event reasons that can explain a failure: a live event with one of these reclassifies its pod
whether or not the pod had a finding (SPEC: a pod stuck in ContainerCreating only repeats events)."""


def cause(cause_id: str) -> Cause:
    """The catalog entry for `cause_id`; KeyError names the id if it is not in the catalog."""
    return BY_ID[cause_id]


OTHER_REASON = "Other"
"""The `reason` label of any reason outside `KNOWN_REASONS` (kube-state-metrics' convention)."""

KNOWN_REASONS: frozenset[str] = frozenset(
    {
        # Waiting reasons the kubelet writes: pkg/kubelet/container/sync_result.go,
        # pkg/kubelet/kuberuntime/kuberuntime_container.go, pkg/kubelet/images/types.go.
        "ContainerCreating",
        "PodInitializing",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "RunInitContainerError",
        "PreCreateHookError",
        "PreStartHookError",
        "PostStartHookError",
        "KillContainerError",
        "VerifyNonRootError",
        "CreatePodSandboxError",
        "ConfigPodSandboxError",
        "KillPodSandboxError",
        "ErrImagePull",
        "ImagePullBackOff",
        "ImageInspectError",
        "ErrImageNeverPull",
        "InvalidImageName",
        "RegistryUnavailable",
        "SignatureValidationFailed",
        # Terminated reasons from the runtimes (containerd, CRI-O, dockershim) and the kubelet
        # (ContainerStatusUnknown: the container vanished while the pod was terminating).
        "Error",
        "Completed",
        "OOMKilled",
        "ContainerCannotRun",
        "StartError",
        "DeadlineExceeded",
        "ContainerStatusUnknown",
        # Pod `status.reason` the classifier reports as the container's reason.
        "Evicted",
    }
).union(*(c.waiting_reasons | c.terminated_reasons for c in _BUILTIN))
"""Every kubelet/runtime reason exported as is in the `reason` label of `crashloop_container_failing`.

The label passes `state.waiting.reason` / `state.terminated.reason` through, and a runtime (or a
hostile API) can put any text there; anything else becomes `OTHER_REASON`, so the label's values,
like the `cause` label's, come from a fixed table."""


def reason_label(reason: str) -> str:
    """`reason` itself when it is a known kubelet/runtime reason, else `OTHER_REASON`."""
    return reason if reason in KNOWN_REASONS else OTHER_REASON
