"""`crashloop_crashes_total` with a hold-back for brand-new series.

`increase()` needs two samples of a series; a series born at its first crash with value 1 gives
increase() == 0 for that crash, so the seed's "restarts increased by more than 3 in 15m" alert
would miss it. A new series is therefore exposed at 0 for `holdback` seconds (one scrape interval
by default) before its first increment is applied. Increments arriving meanwhile accumulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class CrashKey(NamedTuple):
    """The label set of one crashes_total series (no pod label: series survive pod churn)."""

    namespace: str
    workload_kind: str
    workload: str
    container: str
    container_type: str
    cause: str


@dataclass(slots=True)
class _Series:
    value: float
    pending: float
    release_at: float


class CrashCounter:
    """Counter series with hold-back; the clock is passed in, never read here."""

    def __init__(self, *, holdback: float) -> None:
        self._holdback = holdback
        self._series: dict[CrashKey, _Series] = {}

    def inc(self, key: CrashKey, amount: float, *, now: float) -> None:
        if amount <= 0:
            return
        s = self._series.get(key)
        if s is None:
            if self._holdback <= 0:
                self._series[key] = _Series(value=amount, pending=0.0, release_at=now)
            else:
                self._series[key] = _Series(value=0.0, pending=amount, release_at=now + self._holdback)
            return
        if s.pending:
            s.pending += amount
        else:
            s.value += amount

    def release(self, *, now: float) -> None:
        """Apply held-back increments whose hold-back period is over."""
        for s in self._series.values():
            if s.pending and now >= s.release_at:
                s.value += s.pending
                s.pending = 0.0

    def snapshot(self, *, now: float, include_pending: bool = False) -> list[tuple[CrashKey, float]]:
        """Current (labels, value) pairs, after releasing matured increments; `include_pending`
        adds increments still held back (for humans, e.g. the demo table; never for /metrics)."""
        self.release(now=now)
        return [(k, s.value + (s.pending if include_pending else 0.0)) for k, s in self._series.items()]

    def total(self, *, include_pending: bool = True) -> float:
        """Sum over all series; with pending increments, this is every crash ever counted."""
        return sum(s.value + (s.pending if include_pending else 0.0) for s in self._series.values())

    def __len__(self) -> int:
        return len(self._series)
