"""Names vulture reports as unused that are used, by something it cannot follow (`make lint`).

Each entry says who reads it. Real dead code is deleted, not listed here.
"""

# ruff: noqa
# mypy: ignore-errors

_ = object()

# Dataclass fields written to JSON by dataclasses.asdict (benchmark results, sim fault parameters).
startup_s  # benchmarks/sync_bench.py: SyncRun, in results.json
rss_sync_mib  # benchmarks/sync_bench.py: SyncRun, in results.json
rss_scraped_mib  # benchmarks/sync_bench.py: SyncRun, in results.json
mid_event  # sim/faults.py: a fault's parameter, sent to the sim server, read as params["mid_event"]
panel_id  # crashloop_dashboards/targets.py: PanelTarget field, read by the preview and tests' messages

# Attributes set for a library to read.
_.id_val  # crashloop_dashboards/render.py: the Grafana SDK's panel id, serialised by its encoder
_.log_errors  # classify/user_rules.py: re2.Options, read by RE2
_.whitespace_split  # tests: shlex.shlex options
_.commenters  # tests: shlex.shlex options
_.__loader__  # kube/loaders.py: a package module's loader, read by the import system and inspect

# Parameters a protocol or an override must accept.
exc_type  # __aexit__(exc_type, exc, tb)
exc  # __aexit__ and aiohttp handlers
indentless  # rulegen/output.py: yaml Dumper.increase_indent override

# Read by pytest.
pytestmark
