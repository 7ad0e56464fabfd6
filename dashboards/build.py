"""Generate the Grafana dashboards JSON from the Python builders (and check it is up to date).

    python dashboards/build.py           # write dashboards/*.json
    python dashboards/build.py --check   # exit 1 if any checked-in file differs from the builders

The JSON is checked in because Grafana (file provisioning, the sidecar ConfigMap) reads JSON,
not Python; the check keeps the two from drifting, e.g. after a cause is added to the catalog.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crashloop_dashboards.render import render_all

HERE = Path(__file__).resolve().parent


def stale_files(directory: Path) -> list[str]:
    """Names of the generated files that are missing from `directory` or differ from the builders."""
    stale = []
    for name, text in render_all().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in JSON is stale")
    parser.add_argument("--out", type=Path, default=HERE, help="directory of the JSON files (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"{args.out / name} is stale: run `python dashboards/build.py`", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
