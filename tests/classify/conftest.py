"""Loads the per-cause fixture files (tests/fixtures/) as classifier inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crashloop_exporter.model import EventRecord, NodeRecord, PodRecord
from crashloop_exporter.parse import parse_event, parse_node, parse_pod, parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass
class Case:
    id: str
    path: Path
    pod: PodRecord
    events: list[EventRecord]
    logs: dict[str, str]
    node: NodeRecord | None
    now: float
    expect: list[dict[str, Any]]


def load_case(path: Path) -> Case:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    events = [e for e in (parse_event(raw) for raw in data.get("events") or []) if e is not None]
    now = parse_time(data["now"])
    assert now is not None, f"{path}: 'now' must be RFC 3339"
    return Case(
        id=f"{path.parent.name}/{path.stem}",
        path=path,
        pod=parse_pod(data["pod"], keep_all_specs=True),
        events=events,
        logs={k: v or "" for k, v in (data.get("logs") or {}).items()},
        node=parse_node(data["node"]) if data.get("node") else None,
        now=now,
        expect=list(data.get("expect") or []),
    )


def case_files() -> list[Path]:
    return sorted([*FIXTURES.glob("causes/*/*.yaml"), *FIXTURES.glob("healthy/*.yaml")])
