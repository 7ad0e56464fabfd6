"""Credentials never survive into evidence; terminal control never reaches a screen."""

from __future__ import annotations

import pytest

from crashloop_exporter.classify.redact import EXAMPLES, FORMS, SAFE_LINES, clean, redact

SECRETS = [
    ("postgres://app:s3cr3tPass@db.prod:5432/app", "s3cr3tPass"),
    ("connecting with password=hunter2 to db", "hunter2"),
    ('{"api_key": "abcdef123456"}', "abcdef123456"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
    ("stripe key sk_live_51H8aBcDeFgHiJkLmN rejected", "sk_live_51H8aBcDeFgHiJkLmN"),
    ("aws AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
    ("DB_PASSWORD: 'Pa55word!' invalid", "Pa55word!"),
    ("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[s[1][:12] for s in SECRETS])
def test_redact_masks_credential_values(text: str, secret: str) -> None:
    """Each credential shape is masked while the surrounding words stay readable."""
    out = redact(text)
    assert secret not in out
    assert "***" in out


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_each_form_of_the_table_masks_its_example(form: object) -> None:
    """Every credential shape in the table: its example loses the secret and keeps the rest readable."""
    from crashloop_exporter.classify.redact import SecretForm

    assert isinstance(form, SecretForm)
    for out in (redact(form.example), clean(form.example, limit=10_000)):
        assert form.secret not in out
        assert form.kept in out and "***" in out


@pytest.mark.parametrize(("text", "secret", "kept"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_generic_forms_mask_real_leak_lines(text: str, secret: str, kept: str) -> None:
    """Credentials with no vendor prefix (pass=, Pwd=, --password x, ?sig=, X-Amz-Signature=) are masked."""
    out = clean(text, limit=10_000)
    assert secret not in out
    assert kept in out and "***" in out


@pytest.mark.parametrize("line", SAFE_LINES)
def test_ordinary_log_words_are_not_redacted(line: str) -> None:
    """Decisive log lines that merely mention passwords or tokens are left exactly as they are."""
    assert redact(line) == line


def test_redaction_is_idempotent() -> None:
    """Redacting already-redacted text changes nothing (evidence is cleaned again after a relist)."""
    for text in [f.example for f in FORMS] + [e[1] for e in EXAMPLES]:
        once = redact(text)
        assert redact(once) == once


def test_redact_keeps_kubernetes_names() -> None:
    """Secret *names* and missing-key messages are evidence, not credentials."""
    msg = (
        "Error: couldn't find key DB_PASSWORD in Secret production/api-db-credentials; "
        'secret "stripe-secret" not found'
    )
    assert redact(msg) == msg


def test_clean_strips_ansi_and_control_and_trims() -> None:
    """ANSI codes and control bytes go; a long line keeps its head and its tail (the root cause)."""
    out = clean("\x1b[31mERROR\x1b[0m boom\x00\x07 " + "x" * 500 + " caused by: not a directory")
    assert out.startswith("ERROR boom") and out.endswith("not a directory")
    assert "\x1b" not in out and "\x00" not in out
    assert len(out) <= 240 and " … " in out


def test_label_injection_stays_inert_text() -> None:
    """A log line shaped like exposition text is just text after cleaning (labels never carry it)."""
    line = 'level=error msg="x"} crashloop_crashes_total{cause="oomkilled"} 1\n# TYPE fake counter'
    assert "\n" not in clean(line)


def test_huge_binary_log_is_bounded_and_classified_without_error() -> None:
    """A 4 MiB log of binary junk with one fatal line: classified, evidence bounded and printable."""
    import os

    from crashloop_exporter.classify import classify
    from crashloop_exporter.parse import parse_pod

    junk = os.urandom(4 * 1024 * 1024).decode("utf-8", errors="replace")
    log = junk + "\npanic: DATABASE_URL environment variable is not set\n" + "\x00\x1b[31m" * 1000
    pod = parse_pod(
        {
            "metadata": {"name": "p", "namespace": "n", "uid": "u"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "c",
                        "restartCount": 2,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}},
                    }
                ]
            },
        }
    )
    [f] = classify(pod, logs={"c": log}, now=0.0)
    assert f.cause == "bad_config"
    assert all(len(e.detail) <= 240 and e.detail.isprintable() for e in f.evidence)
