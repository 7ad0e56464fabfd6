"""Settings of `crashloop-exporter serve`, in one dataclass.

The flag names are a public contract (deploy manifests, docs and scripts use them); `cli.serve`
maps each flag and its `CRASHLOOP_*` environment variable onto a field here and calls `validate()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crashloop_exporter.errors import InputError

DEFAULT_PORT = 10079
"""The 9100-9999 block of Prometheus' default-port-allocations list is exhausted; new exporters are
allocated from 10000 up. 10079 was chosen from that range (see README, "Port")."""


def parse_listen_address(value: str) -> tuple[str, int]:
    """`HOST:PORT` (host may be empty or `[::]`) to (host, port); InputError otherwise."""
    host, sep, port_s = value.rpartition(":")
    if not sep or not port_s.isdigit():
        raise InputError(f"--listen-address {value!r}: expected HOST:PORT, e.g. 0.0.0.0:{DEFAULT_PORT}")
    port = int(port_s)
    if not 0 <= port <= 65535:
        raise InputError(f"--listen-address {value!r}: port must be 0..65535")
    return host.strip("[]") or "0.0.0.0", port


@dataclass(slots=True)
class Settings:
    """Everything `serve` (and `demo`) needs to run."""

    listen_address: str = f"0.0.0.0:{DEFAULT_PORT}"
    """HOST:PORT of the metrics/health server."""
    kubeconfig: str | None = None
    """Path to a kubeconfig; default: in-cluster service account, then KUBECONFIG / ~/.kube/config."""
    context: str | None = None
    """kubeconfig context to use instead of the current one."""
    namespaces: tuple[str, ...] = ()
    """Only watch these namespaces (empty: all)."""
    exclude_namespaces: tuple[str, ...] = ()
    """Never track pods in these namespaces."""
    label_selector: str = ""
    """Pod label selector passed to the API."""
    no_logs: bool = False
    """Never fetch container logs (classification uses status and events only)."""
    log_tail_lines: int = 200
    """`tailLines` of each previous-log fetch."""
    log_limit_bytes: int = 65536
    """`limitBytes` of each previous-log fetch."""
    log_fetch_concurrency: int = 4
    """At most this many log fetches in flight."""
    log_fetch_rate: float = 10.0
    """At most this many log fetches started per second (token bucket)."""
    rules_file: str | None = None
    """YAML with extra or overriding log patterns per cause."""
    shard: int = 0
    """This replica's shard index (pods whose UID hashes to it are tracked)."""
    total_shards: int = 1
    """Number of shards."""
    new_series_holdback: float = 60.0
    """Seconds a brand-new crashes_total series is exposed at 0 before its first increment, so
    that `increase()` sees every crash."""
    log_level: str = "info"
    """debug, info, warning or error."""
    log_format: str = "text"
    """text or json."""
    causes_endpoint: bool = True
    """Serve /causes (disable with --no-causes-endpoint where the port is widely reachable)."""
    watch_timeout_seconds: int = 300
    """`timeoutSeconds` of each watch request; the server closes the stream after it."""
    inactivity_timeout: float = 360.0
    """A watch with no bytes (not even a bookmark) for this long is treated as hung. Longer than
    `watch_timeout_seconds`, so a quiet but healthy stream is closed by the server first."""
    watch_backoff_initial: float = 1.0
    """Ceiling, in seconds, of the first jittered delay before a failed list/watch is retried."""
    watch_backoff_max: float = 30.0
    """Largest ceiling, in seconds, of that delay as failures repeat (the delay doubles up to it)."""
    list_page_size: int = 500
    """`limit` of each LIST page."""
    event_window: int = 20
    """Events kept per pod (newest first)."""
    event_max_age: float = 3600.0
    """Events older than this are forgotten."""
    extra: dict[str, str] = field(default_factory=dict)
    """Free-form settings for the simulator/demo."""

    def validate(self) -> None:
        """Raise InputError with one sentence for the first out-of-range setting."""
        parse_listen_address(self.listen_address)
        if self.total_shards < 1:
            raise InputError(f"--total-shards {self.total_shards}: must be at least 1")
        if not 0 <= self.shard < self.total_shards:
            raise InputError(f"--shard {self.shard}: must be in 0..{self.total_shards - 1} (--total-shards)")
        if not 1 <= self.log_tail_lines <= 10000:
            raise InputError(f"--log-tail-lines {self.log_tail_lines}: must be 1..10000")
        if not 1024 <= self.log_limit_bytes <= 16 * 1024 * 1024:
            raise InputError(f"--log-limit-bytes {self.log_limit_bytes}: must be 1024..16777216")
        if not 0 <= self.new_series_holdback <= 3600:
            raise InputError(f"--new-series-holdback {self.new_series_holdback}: must be 0..3600 seconds")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise InputError(f"--log-level {self.log_level!r}: expected debug, info, warning or error")
        if self.log_format not in ("text", "json"):
            raise InputError(f"--log-format {self.log_format!r}: expected text or json")
        if set(self.namespaces) & set(self.exclude_namespaces):
            raise InputError("--namespaces and --exclude-namespaces name the same namespace")
        if not 1 <= self.log_fetch_concurrency <= 64:
            raise InputError(f"log fetch concurrency {self.log_fetch_concurrency}: must be 1..64")
        if not 10 <= self.watch_timeout_seconds <= 3600:
            raise InputError(f"watch timeout {self.watch_timeout_seconds}: must be 10..3600 seconds")
        if not 5 <= self.inactivity_timeout <= 7200:
            raise InputError(f"--watch-inactivity-timeout {self.inactivity_timeout:g}: must be 5..7200 seconds")
        if not 0.01 <= self.watch_backoff_initial <= 60:
            raise InputError(f"--watch-backoff-initial {self.watch_backoff_initial:g}: must be 0.01..60 seconds")
        if not self.watch_backoff_initial <= self.watch_backoff_max <= 600:
            raise InputError(
                f"--watch-backoff-max {self.watch_backoff_max:g}: must be {self.watch_backoff_initial:g}"
                "..600 seconds (at least --watch-backoff-initial)"
            )
        if not 1 <= self.list_page_size <= 5000:
            raise InputError(f"--list-page-size {self.list_page_size}: must be 1..5000")
