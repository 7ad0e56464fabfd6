"""Which address a `dependency_unavailable` log could not reach, in each runtime's own words.

The classifier only says *that* a program gave up on a dependency; to say *which* workload that
is, the host and port have to come out of the log tail first. Every runtime words it differently,
and several give both the name it was asked for and the IP it resolved to (Kafka's
`(host/ip:port)`, psycopg2's `"host" (ip), port N`): both are kept, the name first, because a name
resolves to a Service and an IP may only resolve to one pod of it.

Only the host and port are taken, never a URL's user:password part, so a target is safe to show.
A connection pool can name dozens of addresses: at most `MAX_TARGETS` distinct ones are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TARGETS = 4
"""Distinct addresses kept per log: enough for "name, then its IP" across two lines, bounded for a
pool that logs fifty replicas."""
MAX_LOG_CHARS = 64 * 1024
"""Only the end of a longer log is searched (the fatal lines are at the end)."""

_HOST = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})"
_IP6 = r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+"
_IP4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IP = rf"(?:{_IP4}|{_IP6})"

# Each pattern names its runtime; groups: host (a name or an IP), ip (when the log gives both), port.
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # Java Kafka client (NetworkClient): `Connection to node -1 (kafka-0.kafka/10.1.2.3:9092) could not be
        # established`, or `(/10.1.2.3:9092)` when it has only the IP.
        rf"Connection to node -?\d+ \((?P<host>{_HOST})?/(?P<ip>{_IP}):(?P<port>\d+)\)",
        # Kafka: `Error connecting to node broker:29092 (id: -1 rack: null)`.
        rf"Error connecting to node (?P<host>{_HOST}):(?P<port>\d+)",
        # psycopg2 / libpq >= 14: `connection to server at "pg" (10.0.0.5), port 5432 failed`.
        rf"connection to server at \"(?P<host>[^\"\s]+)\"(?: \((?P<ip>{_IP})\))?, port (?P<port>\d+)",
        # libpq < 14: `Is the server running on host "pg" (10.0.0.5) and accepting TCP/IP connections on port 5432?`
        rf"Is the server running on host \"(?P<host>[^\"\s]+)\"(?: \((?P<ip>{_IP})\))?"
        rf"(?: and accepting\s+TCP/IP connections on port (?P<port>\d+))?",
        # libpq: `could not translate host name "pg" to address: Name or service not known`.
        r"could not translate host name \"(?P<host>[^\"\s]+)\"",
        # Go net: `dial tcp 10.0.1.45:5432: connect: connection refused`, `dial tcp [fd00::1]:80`.
        rf"dial (?:tcp|udp)[46]? \[?(?P<host>{_IP}|{_HOST})\]?:(?P<port>\d+)",
        # Go resolver: `dial tcp: lookup postgres on 10.96.0.10:53: no such host`.
        rf"lookup (?P<host>{_HOST})(?: on [\[\]\d.:A-Fa-f]+)?: (?:no such host|server misbehaving|i/o timeout)",
        # Node.js: `connect ECONNREFUSED 10.0.0.5:5432`, `connect ETIMEDOUT 10.0.0.5:6379`.
        rf"connect (?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH) (?P<host>{_IP}|{_HOST}):(?P<port>\d+)",
        # Node.js: `getaddrinfo ENOTFOUND redis-master` (older versions add ` redis-master:6379`).
        rf"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>{_HOST})(?: \S+:(?P<port>\d+))?",
        # redis-py: `Error 111 connecting to redis:6379. Connection refused.`, `Error -2 connecting to ...`.
        rf"Error -?\d+ connecting to (?P<host>{_HOST}):(?P<port>\d+)",
        # MongoDB drivers: `failed to connect to server [mongo:27017] on first connect`.
        rf"failed to connect to server \[(?P<host>{_HOST}):(?P<port>\d+)\]",
        # curl: `Failed to connect to api port 8080`, `Could not resolve host: api`.
        rf"Failed to connect to (?P<host>{_HOST}) port (?P<port>\d+)",
        rf"Could not resolve host: (?P<host>{_HOST})",
        # Java: `java.net.UnknownHostException: postgres-service`.
        rf"UnknownHostException: (?P<host>{_HOST})",
        # JDBC PostgreSQL: `Connection to postgres:5432 refused.`
        rf"Connection to (?P<host>{_HOST}):(?P<port>\d+) refused",
        # URLs: `postgres://user:pw@db:5432/app` (the userinfo is skipped, never captured).
        rf"\b(?:postgres(?:ql)?|mysql|mariadb|redis|rediss|amqps?|mongodb(?:\+srv)?|nats|kafka|http|https|grpc)"
        rf"://(?:[^@\s/]+@)?(?P<host>{_HOST})(?::(?P<port>\d+))?",
        # Generic wording: `unable to connect to PostgreSQL at pg.prod.svc:5432`, `connecting to redis:6379`,
        # `could not connect to db:3306`, Python's `Connection refused ... to host:port`.
        rf"(?:\bat|connect(?:ing|ion)? to|reach|dialing)(?: [A-Za-z]+)?? "
        rf"\[?(?P<host>{_IP}|{_HOST})\]?:(?P<port>\d{{1,5}})\b",
    )
)


@dataclass(frozen=True, slots=True)
class Target:
    """One address a log named: `host` as written (a name or an IP), the IP when the log also gave
    it, and the port ("" when the log named none)."""

    host: str
    port: str = ""
    ip: str = ""

    @property
    def text(self) -> str:
        """`host:port` as the log names it (the `target` of the JSON)."""
        return f"{self.host}:{self.port}" if self.port else self.host

    def encode(self) -> str:
        """One space-free token for `Finding.facts` (hosts, IPs and ports hold no `|` or space)."""
        return f"{self.host}|{self.port}|{self.ip}"

    @classmethod
    def decode(cls, token: str) -> Target | None:
        parts = token.split("|")
        if len(parts) != 3 or not parts[0]:
            return None
        return cls(parts[0], parts[1], parts[2])


def extract_targets(log_text: str, *, limit: int = MAX_TARGETS) -> list[Target]:
    """The distinct addresses the log could not reach, latest last line first: the final error
    names the dependency that made the program exit, earlier lines may be retries of others."""
    text = log_text[-MAX_LOG_CHARS:]
    # libpq splits its message over lines ("...(10.0.0.5) and accepting\n\tTCP/IP connections on port"):
    # match line by line, and the joined pair of each line with the next for that one case.
    lines = [ln for ln in text.splitlines() if ln.strip()]
    found: list[Target] = []
    seen: set[tuple[str, str]] = set()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if "accepting" in line and i + 1 < len(lines):
            line = f"{line} {lines[i + 1].strip()}"
        for t in _line_targets(line):
            for key in ((t.host, t.port), (t.ip, t.port)):
                if key[0] and key in seen:
                    break
            else:
                seen.add((t.host, t.port))
                if t.ip:
                    seen.add((t.ip, t.port))
                found.append(t)
                if len(found) >= limit:
                    return _names_first(found)
    return _names_first(found)


def _line_targets(line: str) -> list[Target]:
    out: list[Target] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(line):
            g = m.groupdict()
            host = (g.get("host") or "").rstrip(".").lower()
            ip = (g.get("ip") or "").lower()
            port = g.get("port") or ""
            if not host and ip:
                host, ip = ip, ""
            if not host or (port and not 0 < int(port) < 65536):
                continue
            out.append(Target(host=host, port=port, ip=ip))
    return out


def _names_first(targets: list[Target]) -> list[Target]:
    """Names before bare IPs (stable): a name says which Service was meant."""
    return sorted(targets, key=lambda t: is_ip(t.host))


def is_ip(host: str) -> bool:
    return bool(re.fullmatch(_IP, host))


def encode_targets(targets: list[Target]) -> str:
    return " ".join(t.encode() for t in targets)


def decode_targets(facts_value: str) -> list[Target]:
    return [t for t in (Target.decode(tok) for tok in facts_value.split()) if t is not None]
