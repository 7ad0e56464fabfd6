"""The demo's live table: every row has an example, causes are coloured by catalog severity only on request."""

from __future__ import annotations

from collections import Counter

from crashloop_exporter.catalog import CAUSES
from crashloop_exporter.cli.demo import Endpoints, Seen, causes_table


def test_rows_never_have_an_empty_example() -> None:
    """A cause seen only in crash counts (no failing container now) shows the workload it was counted on."""
    table = causes_table([Seen("oomkilled", "production/api-1", True)], Counter(oomkilled=2, sigterm=1),
                         examples={"sigterm": "batch/Job/nightly"})
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:-1]}
    assert rows["oomkilled"][-1] == "production/api-1"
    assert rows["sigterm"][-1] == "batch/Job/nightly"
    assert all(len(r) == 4 for r in rows.values()), table


def test_colour_follows_catalog_severity() -> None:
    """With colour on, each cause is painted in its severity's colour; without it, no escape at all."""
    colour = {"critical": "31", "warning": "33", "info": "36"}
    seen = [Seen(c.id, "p/a", True) for c in CAUSES]
    plain = causes_table(seen, Counter())
    painted = causes_table(seen, Counter(), color=True)
    assert "\x1b[" not in plain
    for c in CAUSES:
        assert f"\x1b[{colour[c.severity]}m{c.id} " in painted, (c.id, c.severity)


def test_header_names_every_endpoint() -> None:
    """The header repeated on each refresh holds the metrics URL, the causes URL and the kubeconfig path."""
    header = Endpoints("http://h:1/metrics", "http://h:1/causes", "/tmp/k").header()
    assert "http://h:1/metrics" in header and "http://h:1/causes" in header and "/tmp/k" in header
