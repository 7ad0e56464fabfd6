"""Settings of `crashloop-exporter serve` (and `demo`, `diagnose`), in one dataclass.

Each field that users set declares its flag here, once: name, help, metavar, choices and bounds
(`Flag`, `Bounds`). `cli.flags` derives every subcommand's argparse options and their
`CRASHLOOP_<FLAG>` environment variables from that metadata, so a flag cannot drift between
`serve`, `demo` and `diagnose`, nor between its flag and its env var. The flag names are a public
contract (deploy manifests, docs and scripts use them). `validate()` checks the same bounds for
Settings built in code, plus the checks that span two fields.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import Field, dataclass, field, fields
from typing import Any

from crashloop_exporter.errors import InputError

DEFAULT_PORT = 10079
"""The 9100-9999 block of Prometheus' default-port-allocations list is exhausted; new exporters are
allocated from 10000 up. 10079 was chosen from that range (see README, "Port")."""

LOG_LEVELS = ("debug", "info", "warning", "error")


def split_listen_address(value: str) -> tuple[str, int]:
    """`HOST:PORT` (host may be empty or `[::]`) to (host, port); ValueError saying what was expected."""
    host, sep, port_s = value.rpartition(":")
    if not sep or not port_s.isdigit():
        raise ValueError(f"expected HOST:PORT, e.g. 0.0.0.0:{DEFAULT_PORT}")
    port = int(port_s)
    if not 0 <= port <= 65535:
        raise ValueError("port must be 0..65535")
    return host.strip("[]") or "0.0.0.0", port


def parse_listen_address(value: str, *, flag: str = "--listen-address") -> tuple[str, int]:
    """`split_listen_address`, failing with an InputError that names `flag`."""
    try:
        return split_listen_address(value)
    except ValueError as e:
        raise InputError(f"{flag} {value!r}: {e}") from None


@dataclass(frozen=True, slots=True)
class Flag:
    """How users set a field: its command-line flag and, derived from it, `CRASHLOOP_<FLAG>`."""

    name: str
    """The long flag, e.g. `--log-tail-lines`; a public contract, never renamed."""
    help: str
    """One line for `--help`; the default, bounds and env var are appended by `cli.flags`."""
    metavar: str | None = None
    """Placeholder in `--help`; for a choice flag, the choices are shown instead."""
    choices: tuple[str, ...] = ()
    """Accepted values of a text flag (case-insensitive; stored lower-case)."""
    sets: bool = True
    """For a boolean field: the value the switch gives it (`--no-causes-endpoint` sets False)."""
    check: Callable[[str], object] | None = None
    """Extra check of a text value; raises ValueError saying what was expected."""

    @property
    def env(self) -> str:
        """The environment variable that sets this flag when it is not on the command line."""
        return "CRASHLOOP_" + self.name.removeprefix("--").upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The accepted range of a number field, declared next to it and checked wherever it is set."""

    low: float
    high: float | None = None
    """None: no upper bound."""
    unit: str = ""
    """Appended to the range in messages, e.g. `seconds`."""

    def admits(self, value: float) -> bool:
        """Inside the range (NaN never is; infinity only without an upper bound)."""
        if math.isnan(value) or value < self.low:
            return False
        return value <= self.high if self.high is not None else not math.isinf(value)

    def describe(self) -> str:
        """`1..10000`, `0..3600 seconds` or `at least 1`, as used in errors and in `--help`."""
        low = _show(self.low)
        text = f"at least {low}" if self.high is None else f"{low}..{_show(self.high)}"
        return f"{text} {self.unit}" if self.unit else text


def setting(default: Any, *, flag: Flag | None = None, bounds: Bounds | None = None, label: str | None = None) -> Any:
    """A dataclass field carrying its flag and bounds; `label` names a flagless field in errors."""
    return field(default=default, metadata={"flag": flag, "bounds": bounds, "label": label})


def _show(value: object) -> str:
    """Numbers as a user types them: 60, 0.01, 16777216 (not 60.0 or 1.67772e+07)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def out_of_range(f: Field[Any], value: object) -> str | None:
    """`must be ...` when `value` is outside field `f`'s declared bounds, choices or form; else None."""
    bounds: Bounds | None = f.metadata.get("bounds")
    flag: Flag | None = f.metadata.get("flag")
    if bounds is not None and isinstance(value, int | float) and not bounds.admits(value):
        return f"must be {bounds.describe()}"
    if flag is not None and isinstance(value, str):
        if flag.choices and value.lower() not in flag.choices:
            return "expected " + " or ".join(", ".join(flag.choices).rsplit(", ", 1))
        if flag.check is not None:
            try:
                flag.check(value)
            except ValueError as e:
                return str(e)
    return None


def field_name_in_errors(f: Field[Any]) -> str:
    """The flag of a field, or its label when users cannot set it."""
    flag: Flag | None = f.metadata.get("flag")
    return flag.name if flag is not None else f.metadata.get("label") or f.name


def describe_value(value: object) -> str:
    """How a value appears in an error: numbers as typed, text quoted."""
    return repr(value) if isinstance(value, str) else _show(value)


def flag_fields() -> Iterator[tuple[Field[Any], Flag]]:
    """Every Settings field users can set, with its flag, in declaration order (= `--help` order)."""
    for f in fields(Settings):
        flag = f.metadata.get("flag")
        if flag is not None:
            yield f, flag


@dataclass(slots=True)
class Settings:
    """Everything `serve` (and `demo`) needs to run."""

    listen_address: str = setting(
        f"0.0.0.0:{DEFAULT_PORT}",
        flag=Flag("--listen-address", "address of the metrics/health server; port 0 picks a free one",
                  metavar="HOST:PORT", check=split_listen_address),
    )
    """HOST:PORT of the metrics/health server."""
    kubeconfig: str | None = setting(
        None,
        flag=Flag("--kubeconfig", "kubeconfig file; without it, the in-cluster service account, then "
                  "$KUBECONFIG, then ~/.kube/config", metavar="PATH"),
    )
    """Path to a kubeconfig; default: in-cluster service account, then KUBECONFIG / ~/.kube/config."""
    context: str | None = setting(None, flag=Flag("--context", "kubeconfig context to use", metavar="NAME"))
    """kubeconfig context to use instead of the current one."""
    namespaces: tuple[str, ...] = setting(
        (), flag=Flag("--namespaces", "only watch these namespaces; without it, all", metavar="A,B")
    )
    """Only watch these namespaces (empty: all)."""
    exclude_namespaces: tuple[str, ...] = setting(
        (), flag=Flag("--exclude-namespaces", "never track pods in these namespaces", metavar="A,B")
    )
    """Never track pods in these namespaces."""
    label_selector: str = setting(
        "", flag=Flag("--label-selector", "only track pods matching this label selector", metavar="SEL")
    )
    """Pod label selector passed to the API."""
    no_logs: bool = setting(False, flag=Flag("--no-logs", "never read container logs (status and events only)"))
    """Never fetch container logs (classification uses status and events only)."""
    no_dependencies: bool = setting(
        False,
        flag=Flag("--no-dependencies", "do not watch Services/EndpointSlices to resolve what a crash waits on"),
    )
    """Never list+watch Services and EndpointSlices: `dependency_unavailable` findings keep
    `dependency: null` (the RBAC rules for those two resources can then be dropped)."""
    log_tail_lines: int = setting(
        200,
        flag=Flag("--log-tail-lines", "lines of previous logs to read per crash", metavar="N"),
        bounds=Bounds(1, 10000),
    )
    """`tailLines` of each previous-log fetch."""
    log_limit_bytes: int = setting(
        65536,
        flag=Flag("--log-limit-bytes", "byte cap of each previous-log read", metavar="N"),
        bounds=Bounds(1024, 16 * 1024 * 1024),
    )
    """`limitBytes` of each previous-log fetch."""
    log_fetch_concurrency: int = setting(
        4,
        flag=Flag("--log-fetch-concurrency", "previous-log reads in flight at most", metavar="N"),
        bounds=Bounds(1, 64),
        label="log fetch concurrency",
    )
    """At most this many log fetches in flight."""
    log_fetch_rate: float = setting(
        10.0,
        flag=Flag("--log-fetch-rate", "previous-log reads started per second at most (a crash wave of 5,000 "
                  "containers waits 500 s for its logs at 10/s; status and events classify it meanwhile)",
                  metavar="N"),
        bounds=Bounds(0.1, 1000, "per second"),
        label="log fetch rate",
    )
    """At most this many log fetches started per second (token bucket)."""
    log_fetch_node_concurrency: int = setting(2, bounds=Bounds(1, 64), label="log fetch concurrency per node")
    """At most this many of those in flight for the pods of one node: the kubelet serves them, and
    one the API server cannot reach must leave slots for every other node."""
    log_first_byte_timeout: float = setting(
        5.0, bounds=Bounds(0.5, 60, "seconds"), label="log first-byte timeout"
    )
    """A log fetch whose response (or next chunk) does not start within this many seconds is given
    up as a `timeout`: a kubelet answers in milliseconds, a hung one never does, and the crash
    waiting for that log is better counted from status than left to hold a slot."""
    rules_file: str | None = setting(
        None, flag=Flag("--rules-file", "YAML file adding or overriding log patterns per cause", metavar="PATH")
    )
    """YAML with extra or overriding log patterns per cause."""
    shard: int = setting(
        0,
        flag=Flag("--shard", "this replica's shard: it tracks the pods whose UID hashes to N", metavar="N"),
        bounds=Bounds(0),
    )
    """This replica's shard index (pods whose UID hashes to it are tracked)."""
    total_shards: int = setting(1, flag=Flag("--total-shards", "number of shards", metavar="M"), bounds=Bounds(1))
    """Number of shards."""
    new_series_holdback: float = setting(
        60.0,
        flag=Flag("--new-series-holdback", "expose a new crashes_total series at 0 this long before its first "
                  "increment; one scrape interval lets increase() see every crash", metavar="SECONDS"),
        bounds=Bounds(0, 3600, "seconds"),
    )
    """Seconds a brand-new crashes_total series is exposed at 0 before its first increment, so
    that `increase()` sees every crash."""
    kill_event_grace: float = setting(
        1.0,
        flag=Flag("--kill-event-grace", "count a death an Event could still explain (a probe kill's Killing, "
                  "which arrives on another watch than the pod) at most this late, under the cause it gives",
                  metavar="SECONDS"),
        bounds=Bounds(0, 10, "seconds"),
    )
    """Seconds a death whose cause only its exit code (or a log) says waits for the Event that
    may explain it: a liveness kill's Killing Event and the pod's terminated status arrive on two
    watch streams, in either order. 0 counts at once, under the cause known then."""
    log_level: str = setting("info", flag=Flag("--log-level", "log verbosity", choices=LOG_LEVELS))
    """debug, info, warning or error."""
    log_format: str = setting("text", flag=Flag("--log-format", "log line format", choices=("text", "json")))
    """text or json."""
    causes_endpoint: bool = setting(
        True,
        flag=Flag("--no-causes-endpoint", "do not serve /causes (evidence) where the metrics port is widely "
                  "reachable", sets=False),
    )
    """Serve /causes (disable with --no-causes-endpoint where the port is widely reachable)."""
    watch_timeout_seconds: int = setting(300, bounds=Bounds(10, 3600, "seconds"), label="watch timeout")
    """`timeoutSeconds` of each watch request; the server closes the stream after it."""
    inactivity_timeout: float = setting(
        360.0,
        flag=Flag("--watch-inactivity-timeout", "a watch that sends nothing, not even a bookmark, for this long "
                  "is reconnected", metavar="SECONDS"),
        bounds=Bounds(5, 7200, "seconds"),
    )
    """A watch with no bytes (not even a bookmark) for this long is treated as hung. Longer than
    `watch_timeout_seconds`, so a quiet but healthy stream is closed by the server first."""
    watch_backoff_initial: float = setting(
        1.0,
        flag=Flag("--watch-backoff-initial", "ceiling of the first jittered delay before a failed list/watch "
                  "is retried", metavar="SECONDS"),
        bounds=Bounds(0.01, 60, "seconds"),
    )
    """Ceiling, in seconds, of the first jittered delay before a failed list/watch is retried."""
    watch_backoff_max: float = setting(
        30.0,
        flag=Flag("--watch-backoff-max", "largest retry delay ceiling as list/watch failures repeat, from "
                  "--watch-backoff-initial to 600 seconds", metavar="SECONDS"),
    )
    """Largest ceiling, in seconds, of that delay as failures repeat (the delay doubles up to it).
    Its range starts at `watch_backoff_initial`, so `validate()` checks it as a pair."""
    list_page_size: int = setting(
        250,
        flag=Flag("--list-page-size", "objects per LIST page when (re)listing (client-go's is 500)", metavar="N"),
        bounds=Bounds(1, 5000),
    )
    """`limit` of each LIST page. Half of client-go's 500: a page of ~6 KB pods and the next one,
    fetched while it is applied, are the largest buffers the exporter holds, and they are held at
    its memory peak, the end of the first sync (peak RSS at 150k pods 122 -> 117 MiB measured, for
    2x the requests; the list phase stayed under 0.5x a bare fetch and orjson parse)."""
    event_window: int = 20
    """Events kept per pod (newest first)."""
    event_max_age: float = 3600.0
    """Events older than this are forgotten."""
    extra: dict[str, str] = field(default_factory=dict)
    """Free-form settings for the simulator/demo."""

    def validate(self) -> None:
        """Raise InputError with one sentence for the first out-of-range setting.

        The per-field bounds are the ones `cli.flags` already checked for flags and env vars; they
        are checked again here for Settings built in code (demo, tests, benchmarks)."""
        for f in fields(self):
            value = getattr(self, f.name)
            reason = out_of_range(f, value)
            if reason is not None:
                raise InputError(f"{field_name_in_errors(f)} {describe_value(value)}: {reason}")
        if not 0 <= self.shard < self.total_shards:
            raise InputError(f"--shard {self.shard}: must be in 0..{self.total_shards - 1} (--total-shards)")
        if set(self.namespaces) & set(self.exclude_namespaces):
            raise InputError("--namespaces and --exclude-namespaces name the same namespace")
        if not self.watch_backoff_initial <= self.watch_backoff_max <= 600:
            raise InputError(
                f"--watch-backoff-max {self.watch_backoff_max:g}: must be {self.watch_backoff_initial:g}"
                "..600 seconds (at least --watch-backoff-initial)"
            )
