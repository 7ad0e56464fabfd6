"""Make text from logs and events safe to show: mask credentials, strip terminal control, trim.

Logs carry credentials (connection strings, tokens, keys printed by a failing config loader), and
evidence reaches `/causes`, `diagnose` output and alert descriptions. Every evidence string passes
through `clean()` before it leaves the classifier.
"""

from __future__ import annotations

import re

MASK = "***"
MAX_EVIDENCE_CHARS = 240

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")

# (pattern, replacement) applied in order. Keep the *name* of the credential, mask its value.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys (a whole block, or its first line when the block was cut).
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"), MASK),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@]+):([^\s@/]+)@"), rf"\1\2:{MASK}@"),
    # Authorization headers and bearer/basic tokens.
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # Vendor key shapes: Stripe, AWS access key ids, GitHub, Slack, Google API keys.
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), MASK),
    # name=value / name: value where the name says it is a credential.
    (
        re.compile(
            r"(?i)\b([\w.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|"
            r"credentials?|auth)[\w.-]*)(\"?\s*[=:]\s*)([\"']?)(?!\*\*\*)(?!<)([^\s\"',;&}]+)"
        ),
        rf"\1\2\3{MASK}",
    ),
)


def redact(text: str) -> str:
    """Mask credential values in `text`; the rest is unchanged."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def sanitize(text: str) -> str:
    """Strip ANSI escapes and control characters, collapse whitespace."""
    text = _ANSI.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def clean(text: str, *, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """Evidence-ready text: sanitized, redacted, trimmed to `limit` characters with an ellipsis."""
    text = redact(sanitize(text))
    if len(text) > limit:
        # Keep both ends: the head says what failed, and Go/runc error chains put the root cause
        # last ("...error mounting ...: not a directory").
        head = limit // 3
        text = text[:head].rstrip() + " … " + text[-(limit - head - 3) :].lstrip()
    return text
