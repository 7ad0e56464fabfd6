"""Which team the product spec says owns each cause: the routing tests' expectation, kept apart
from the generator's own mapping (that is what they test)."""

from __future__ import annotations

from crashloop_exporter.catalog import CauseId

SPEC_OWNERS: dict[str, str] = {
    CauseId.OOMKILLED: "capacity-owners",
    CauseId.NODE_PRESSURE: "capacity-owners",
    CauseId.MISSING_SECRET: "platform-team",
    CauseId.MISSING_SECRET_KEY: "platform-team",
    CauseId.MISSING_CONFIGMAP: "platform-team",
    CauseId.MISSING_CONFIGMAP_KEY: "platform-team",
    CauseId.IMAGE_PULL: "ci-cd",
    CauseId.START_ERROR: "ci-cd",
}
"""The owners the product spec names; every other cause goes to the application's owners."""


def spec_owner(cause_id: str) -> str:
    """The receiver the spec says owns a cause (not the generator's mapping: that is under test)."""
    return SPEC_OWNERS.get(cause_id, "app-owners")
