"""The checked-in pack is exactly what the generator writes, and the generator is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashloop_exporter import artifacts
from crashloop_exporter.cli.main import main
from crashloop_exporter.rulegen import (
    ALERTMANAGER_FILE,
    RULES_FILE,
    TESTS_DIR,
    RulesConfig,
    generate_files,
)
from crashloop_exporter.rulegen.output import HEADER
from tests.rules.conftest import RULES_DIR


def test_checked_in_files_equal_a_fresh_generation() -> None:
    """rules/ is current (the one generator's check, rules only): run `make generate` after a catalog change."""
    stale = artifacts.stale_files(RULES_DIR.parent, only=["rules"])
    assert not stale, f"stale generated files (run `make generate`): {stale}"


def test_rules_generate_check_passes_on_the_checked_in_pack(capsys: pytest.CaptureFixture[str]) -> None:
    """`crashloop-exporter rules generate --check` exits 0 on the repository's rules/."""
    assert main(["rules", "generate", "--check", "--out", str(RULES_DIR)]) == 0
    assert capsys.readouterr().err == ""


def test_generation_is_deterministic() -> None:
    """Two generations with the same config are byte for byte equal."""
    assert generate_files() == generate_files()


def test_every_generated_file_says_it_is_generated() -> None:
    """Each generated file opens with the do-not-edit header naming the command."""
    for rel, text in generate_files().items():
        assert text.startswith(HEADER), rel
    assert "crashloop-exporter rules generate" in HEADER


def test_cli_writes_the_pack_and_check_finds_edits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rules generate --out DIR` writes every file; after a hand edit, `--check` exits 1 naming the file."""
    assert main(["rules", "generate", "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert {Path(p).relative_to(tmp_path).as_posix() for p in written} == set(generate_files())
    assert main(["rules", "generate", "--check", "--out", str(tmp_path)]) == 0

    rules = tmp_path / RULES_FILE
    rules.write_text(rules.read_text(encoding="utf-8").replace("> 3", "> 30"), encoding="utf-8")
    assert main(["rules", "generate", "--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{rules} is stale" in err and "rules generate" in err


def test_check_finds_missing_and_leftover_files(tmp_path: Path) -> None:
    """A missing file and a generated test file the generator no longer writes are both stale."""
    files = generate_files()
    artifacts.write_files(tmp_path, files)
    (tmp_path / ALERTMANAGER_FILE).unlink()
    (tmp_path / TESTS_DIR / "removed-group.test.yaml").write_text(HEADER + "tests: []\n", encoding="utf-8")
    (tmp_path / TESTS_DIR / "hand-written.test.yaml").write_text("tests: []\n", encoding="utf-8")
    assert artifacts.stale_rules_pack(tmp_path, files) == [ALERTMANAGER_FILE, f"{TESTS_DIR}/removed-group.test.yaml"]


def test_bad_selector_is_one_clear_input_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A selector with braces exits 2 with one line naming the setting."""
    code = main(["rules", "generate", "--out", str(tmp_path), "--job-selector", '{job="x"}'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "exporter_selector" in err
    assert not list(tmp_path.iterdir())


def test_regex_selectors_need_no_tests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Regex selectors are refused for the unit tests with a hint, and accepted with --no-tests."""
    args = ["rules", "generate", "--out", str(tmp_path), "--job-selector", 'job=~"a|b"']
    assert main(args) == 2
    assert "--no-tests" in capsys.readouterr().err
    assert main([*args, "--no-tests"]) == 0
    assert (tmp_path / RULES_FILE).exists() and not (tmp_path / TESTS_DIR).exists()


def test_for_override_only_shortens() -> None:
    """for_override caps long `for`s and leaves shorter (or zero) ones alone."""
    config = RulesConfig(for_override="5s")
    assert config.effective_for("15m") == "5s"
    assert config.effective_for("0m") == "0m"
    assert config.effective_for("2s") == "2s"
    text = generate_files(config, with_tests=False)[RULES_FILE]
    assert "for: 5s" in text and "for: 2m" not in text
