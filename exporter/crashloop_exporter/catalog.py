"""The cause catalog: the one table in which a crash cause exists.

Metric label values, alert rules, Alertmanager routes, dashboard panels and the runbook
(`docs/causes.md`) are generated from, or checked against, this table. Adding a cause is one
entry here plus one fixture under `tests/fixtures/causes/`.

Order matters: `CAUSES` is sorted by `priority`, and the classifier takes the first cause whose
signals match (see `classify.engine`). Remediations are `string.Template`s (`${secret}`), filled by
`classify.remediation` with the names the evidence found; `$(...)` shell substitutions survive
because `safe_substitute` leaves them alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["critical", "warning", "info"]
Team = Literal["capacity", "platform", "cicd", "app"]

RUNBOOK_BASE_URL = "https://github.com/crashloop-exporter/crashloop-exporter/blob/main/docs/causes.md"


@dataclass(frozen=True, slots=True)
class Cause:
    """One crash cause: how to recognise it, how bad it is, and how to fix it."""

    id: str
    """snake_case label value exported as `cause`."""
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
    signals: tuple[str, ...]
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
    waiting_reasons: frozenset[str] = field(default_factory=frozenset)
    """Kubelet `state.waiting.reason` values that decide this cause on their own."""
    terminated_reasons: frozenset[str] = field(default_factory=frozenset)
    """Kubelet `lastState/state.terminated.reason` values that decide this cause."""
    log_patterns: tuple[str, ...] = ()
    """Case-insensitive regexes tried on the tail of the previous container's log. A named group
    (`var`, `secret`, `configmap`, `key`, `host`, `port`, `module`) is lifted into the remediation."""

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


_ROLLBACK = "kubectl rollout undo ${workload_ref} -n ${namespace}   # meanwhile, back to the last good revision"
_VERIFY = "kubectl rollout status ${workload_ref} -n ${namespace}"

CAUSES: tuple[Cause, ...] = (
    Cause(
        id="image_pull",
        title="Image pull failed",
        help="The kubelet cannot pull the container image (wrong name or tag, missing pull secret, registry down).",
        priority=10,
        severity="critical",
        team="cicd",
        signals=(
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
        waiting_reasons=frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}),
    ),
    Cause(
        id="missing_secret",
        title="Missing Secret",
        help="A Secret the pod needs does not exist in its namespace (or an optional secret env var is empty).",
        priority=20,
        severity="critical",
        team="platform",
        signals=(
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
        log_patterns=(),
    ),
    Cause(
        id="missing_secret_key",
        title="Missing key in Secret",
        help="The Secret exists but lacks the key a secretKeyRef asks for.",
        priority=30,
        severity="critical",
        team="platform",
        signals=("`couldn't find key K in Secret ns/name` (waiting message or Failed event)",),
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
    ),
    Cause(
        id="missing_configmap",
        title="Missing ConfigMap",
        help="A ConfigMap the pod needs does not exist in its namespace.",
        priority=40,
        severity="critical",
        team="platform",
        signals=(
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
    ),
    Cause(
        id="missing_configmap_key",
        title="Missing key in ConfigMap",
        help="The ConfigMap exists but lacks the key a configMapKeyRef asks for.",
        priority=50,
        severity="critical",
        team="platform",
        signals=("`couldn't find key K in ConfigMap ns/name`",),
        remediation="\n".join(
            (
                "kubectl get configmap ${configmap} -n ${namespace} -o jsonpath='{.data}'",
                'kubectl patch configmap ${configmap} -n ${namespace} --type merge -p \'{"data":{"${key}":"<value>"}}\'',
                "${restart_cmd}",
                _VERIFY,
            )
        ),
        alert_for="2m",
    ),
    Cause(
        id="start_error",
        title="Container cannot start",
        help="The runtime could not start the process: bad entrypoint, missing binary, wrong architecture.",
        priority=60,
        severity="critical",
        team="cicd",
        signals=(
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
        waiting_reasons=frozenset({"RunContainerError", "CreateContainerError"}),
        terminated_reasons=frozenset({"StartError", "ContainerCannotRun"}),
        log_patterns=(
            r"exec format error",
            r"executable file not found in \$PATH",
            r"exec: \"?(?P<module>[^\s\"]+)\"?: (?:stat [^:]+: )?no such file or directory",
            r"^exec (?P<module>/\S+): no such file or directory",
            r"^(?:/bin/)?(?:ba)?sh: (?:\d+: )?(?:exec: )?(?P<module>\S+): (?:not found|No such file or directory)",
        ),
    ),
    Cause(
        id="oomkilled",
        title="OOMKilled",
        help="The kernel OOM killer stopped the container at its memory limit (exit 137, reason OOMKilled).",
        priority=70,
        severity="warning",
        team="capacity",
        signals=("last terminated reason OOMKilled (exit code 137)",),
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
        terminated_reasons=frozenset({"OOMKilled"}),
    ),
    Cause(
        id="node_pressure",
        title="Node pressure",
        help="The node ran out of memory, disk or PIDs and evicted or killed the pod.",
        priority=80,
        severity="warning",
        team="capacity",
        signals=(
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
    ),
    Cause(
        id="liveness_probe",
        title="Liveness probe kill",
        help="The kubelet restarted the container because its liveness probe failed.",
        priority=90,
        severity="warning",
        team="app",
        signals=(
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
    ),
    Cause(
        id="startup_probe",
        title="Startup probe kill",
        help="The kubelet restarted the container because its startup probe never succeeded.",
        priority=100,
        severity="warning",
        team="app",
        signals=("Killing event `Container C failed startup probe, will be restarted`",),
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
    ),
    Cause(
        id="missing_runtime_dependency",
        title="Missing runtime dependency",
        help="The image lacks a module, shared library or class the program needs.",
        priority=110,
        severity="critical",
        team="app",
        signals=(
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
        log_patterns=(
            r"ModuleNotFoundError: No module named '(?P<module>[^']+)'",
            r"ImportError: (?:cannot import name '(?P<module>[^']+)'|No module named (?P<module2>\S+)|.*)",
            r"error while loading shared libraries: (?P<module>[^:]+):",
            r"Error: Cannot find module '(?P<module>[^']+)'",
            r"Could not find or load main class (?P<module>\S+)",
            r"java\.lang\.ClassNotFoundException: (?P<module>\S+)",
            r"java\.lang\.NoClassDefFoundError: (?P<module>\S+)",
            r"ERR_MODULE_NOT_FOUND.*?'(?P<module>[^']+)'",
            r"cannot load such file -- (?P<module>[^\s()]+)",
        ),
    ),
    Cause(
        id="bad_config",
        title="Bad config or env var",
        help="The program rejected its configuration: a required setting is missing or invalid.",
        priority=120,
        severity="critical",
        team="app",
        signals=(
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
        log_patterns=(
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
        ),
    ),
    Cause(
        id="dependency_unavailable",
        title="Dependency unavailable",
        help="The program exited because a service it needs at startup did not answer.",
        priority=130,
        severity="warning",
        team="app",
        signals=(
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
        log_patterns=(
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
        ),
    ),
    Cause(
        id="segfault",
        title="Segmentation fault",
        help="The process died of SIGSEGV (exit 139): a native crash.",
        priority=140,
        severity="warning",
        team="app",
        signals=("exit code 139 (SIGSEGV) with no more specific evidence",),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -n ${namespace} -c ${container} --previous",
                "# exit 139 = SIGSEGV in native code: check what changed in the image, base image or native libs",
                _ROLLBACK,
            )
        ),
        alert_for="0m",
        alert_min_crashes=2,
    ),
    Cause(
        id="sigkill",
        title="Killed (SIGKILL)",
        help="The process was killed with SIGKILL (exit 137) but not by the OOM killer or a probe.",
        priority=150,
        severity="warning",
        team="app",
        signals=("exit code 137 without OOMKilled and without a probe kill",),
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
    ),
    Cause(
        id="sigterm",
        title="Terminated (SIGTERM)",
        help="The process exited on SIGTERM (exit 143) without a probe kill: it was asked to stop.",
        priority=160,
        severity="info",
        team="app",
        signals=("exit code 143 without a probe kill",),
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
    ),
    Cause(
        id="clean_exit",
        title="Exited 0 but restarted",
        help="The main process exited 0 (Completed) under restartPolicy Always, so the kubelet restarts it.",
        priority=170,
        severity="warning",
        team="app",
        signals=("exit code 0 (reason Completed) on a container that is restarted",),
        remediation="\n".join(
            (
                "kubectl get ${workload_ref} -n ${namespace} -o jsonpath="
                "'{.spec.template.spec.containers[?(@.name==\"${container}\")].command}'",
                "# keep the main process in the foreground (no trailing `&`, no daemonize), "
                "or run one-shot work as a Job or CronJob",
            )
        ),
        alert_for="15m",
        terminated_reasons=frozenset({"Completed"}),
    ),
    Cause(
        id="init_container_failed",
        title="Init container failed",
        help="An init container exited non-zero, so the pod never reaches its app containers (Init:CrashLoopBackOff).",
        priority=180,
        severity="critical",
        team="app",
        signals=("an init container failed and no more specific cause above applies",),
        remediation="\n".join(
            (
                "kubectl logs ${pod} -c ${container} --previous -n ${namespace}",
                "# fix what the init step reports (migration, secret store, pre-flight check), then:",
                "kubectl rollout restart ${workload_ref} -n ${namespace}",
                _VERIFY,
            )
        ),
        alert_for="5m",
    ),
    Cause(
        id="app_crash",
        title="Application crash",
        help="The program exited non-zero: a traceback, panic, uncaught exception, or exit 1 with no logs.",
        priority=190,
        severity="warning",
        team="app",
        signals=("any other non-zero exit of a regular container",),
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
    ),
    Cause(
        id="unknown",
        title="Unknown",
        help="The container is failing but no termination, waiting reason or event explains it yet.",
        priority=1000,
        severity="info",
        team="app",
        signals=("failing, but nothing above matched",),
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

CAUSES = tuple(sorted(CAUSES, key=lambda c: c.priority))
BY_ID: Mapping[str, Cause] = {c.id: c for c in CAUSES}
CAUSE_IDS: frozenset[str] = frozenset(BY_ID)


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
).union(*(c.waiting_reasons | c.terminated_reasons for c in CAUSES))
"""Every kubelet/runtime reason exported as is in the `reason` label of `crashloop_container_failing`.

The label passes `state.waiting.reason` / `state.terminated.reason` through, and a runtime (or a
hostile API) can put any text there; anything else becomes `OTHER_REASON`, so the label's values,
like the `cause` label's, come from a fixed table."""


def reason_label(reason: str) -> str:
    """`reason` itself when it is a known kubelet/runtime reason, else `OTHER_REASON`."""
    return reason if reason in KNOWN_REASONS else OTHER_REASON
