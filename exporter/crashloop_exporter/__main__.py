"""Allows `python -m crashloop_exporter`, which is what the container image and tests run."""

from crashloop_exporter.cli.main import main

raise SystemExit(main())
