"""The address a dependency log names, in each runtime's wording (mined from real reports)."""

from __future__ import annotations

import pytest

from crashloop_exporter.deps.address import MAX_TARGETS, extract_targets

CASES = {
    "seed-go-and-wrapper": (
        "Error: unable to connect to PostgreSQL at postgres-service.production.svc.cluster.local:5432\n"
        "dial tcp 10.0.1.45:5432: connect: connection refused\nfailed to initialise application, exiting",
        [("postgres-service.production.svc.cluster.local", "5432", ""), ("10.0.1.45", "5432", "")],
    ),
    "kafka-host-and-ip": (
        "[AdminClient clientId=adminclient-1] Connection to node -1 (broker/172.18.0.3:29092) could not be "
        "established. Broker may not be available.",
        [("broker", "29092", "172.18.0.3")],
    ),
    "kafka-ip-only": ("Connection to node 0 (/10.10.0.100:9092) could not be established.",
                      [("10.10.0.100", "9092", "")]),
    "redis-py": ("redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
                 [("redis", "6379", "")]),
    "node-econnrefused": ("Error: connect ECONNREFUSED 10.96.3.4:5672", [("10.96.3.4", "5672", "")]),
    "node-enotfound": ("Error: getaddrinfo ENOTFOUND redis-master", [("redis-master", "", "")]),
    "go-no-such-host": ("dial tcp: lookup orders-db on 10.96.0.10:53: no such host", [("orders-db", "", "")]),
    "psycopg2-14": ('connection to server at "pg" (10.0.0.5), port 5432 failed: Connection refused',
                    [("pg", "5432", "10.0.0.5")]),
    "libpq-old-two-lines": ('could not connect to server: Connection refused\n\tIs the server running on host "pg" '
                            "(10.0.0.5) and accepting\n\tTCP/IP connections on port 5432?",
                            [("pg", "5432", "10.0.0.5")]),
    "jdbc-postgresql": ("org.postgresql.util.PSQLException: Connection to postgres:5432 refused. Check that the "
                        "hostname and port are correct", [("postgres", "5432", "")]),
    "url-without-credentials": ("dsn postgres://admin:s3cret@db.prod:5432/app: connection refused",
                                [("db.prod", "5432", "")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_runtime_wording(case: str) -> None:
    """Each runtime's wording gives its host (name first), port and, when the log has both, the IP."""
    text, want = CASES[case]
    got = [(t.host, t.port, t.ip) for t in extract_targets(text)]
    assert got == want


def test_credentials_never_become_a_target() -> None:
    """A URL's user:password is skipped, never captured."""
    targets = extract_targets("redis://default:hunter2@cache:6379 ECONNREFUSED")
    assert [t.text for t in targets] == ["cache:6379"]


def test_a_pool_of_fifty_addresses_keeps_a_few() -> None:
    """A connection pool that logs fifty replicas resolves at most MAX_TARGETS distinct addresses."""
    log = "\n".join(f"dial tcp 10.1.0.{i}:5432: connect: connection refused" for i in range(50))
    assert len(extract_targets(log)) == MAX_TARGETS
