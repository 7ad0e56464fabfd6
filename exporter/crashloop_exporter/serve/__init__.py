"""The wiring of `serve`: the running exporter's parts and the HTTP side of /metrics.

`app` builds, starts and stops an exporter (credentials, watchers, log fetcher, state); `tasks`
supervises its background tasks; `server` holds the aiohttp routes; `exposition` renders the
per-container families from cached lines and `collector` the exporter-health families. The
decisions live in `state` and `classify`; this package is I/O plumbing only.
"""
