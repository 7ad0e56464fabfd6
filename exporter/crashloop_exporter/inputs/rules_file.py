"""Reading a `--rules-file`: the file and YAML half of user log rules, kept out of `classify`.

The classifier does no I/O (an import contract in `.importlinter` says so), so `serve` and
`diagnose` read the file here and hand the parsed data to `classify.rules_from_data`, which
validates and compiles it. Every problem is one `RulesFileError` sentence naming the file.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from crashloop_exporter.classify import LogRules, rules_from_data
from crashloop_exporter.errors import RulesFileError


def load_rules_file(path: str | Path) -> LogRules:
    """Read, validate and compile a `--rules-file`; RulesFileError in one sentence otherwise."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesFileError(f"--rules-file {p}: cannot read it ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise RulesFileError(f"--rules-file {p}: not UTF-8 text") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesFileError(f"--rules-file {p}: invalid YAML{at}") from e
    return rules_from_data(data, source=f"--rules-file {p}")
