"""Grafana dashboards for crashloop-exporter, written as code with the Grafana Foundation SDK.

Why code and not hand-edited JSON: every per-cause tile, colour, value mapping and runbook link
is generated from the cause catalog (`crashloop_exporter.catalog`), so adding a cause there
updates the dashboards on the next `make generate` (`crashloop-exporter generate`), and a test
fails while the checked-in JSON is stale. The package is installed with the project, but it needs
the dev extra's SDK, so the exporter imports it only to render the dashboards.

Modules: `common` (datasource, variables, selectors, panel factories, layout), one module per
dashboard (`overview`, `workload`, `health`), `render` (deterministic JSON) and `targets`
(reads the rendered JSON back: every query with its variables substituted, for promtool checks,
the preview renderer and end-to-end tests).
"""
