"""Where `diagnose` gets its pods, events, nodes and crash logs when it is not watching a cluster.

`dump` reads `kubectl cluster-info dump` output, `files` reads `kubectl get -o json|yaml` files,
and both fill a `snapshot.Snapshot`, the one shape the classifier loop in `cli.diagnose` consumes
(the live cluster path fills the same Snapshot from the API).
"""

from crashloop_exporter.inputs.snapshot import Snapshot, SnapshotBuilder

__all__ = ["Snapshot", "SnapshotBuilder"]
