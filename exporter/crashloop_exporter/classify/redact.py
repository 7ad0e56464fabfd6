"""Make text from logs and events safe to show: mask credentials, strip terminal control, trim.

Logs carry credentials (connection strings, tokens, keys printed by a failing config loader), and
evidence reaches `/causes`, `diagnose` output, alert descriptions and, through API error bodies,
the exporter's own log. Every evidence string passes through `clean()` before it leaves the
classifier, and every API error message passes through it before it becomes an exception.

The shapes are one table, `FORMS`: each entry is a credential shape seen leaking in real crash
logs and public issue threads, with an example and where such leaks are seen. The tests run every
example through every output (`diagnose -o json|table|wide`, `/causes`, the exporter's log), so a
new shape is one entry here. Each rule keeps the *name* of the credential and masks its value, so
the line stays readable ("password authentication failed for user" is a decisive log line, not a
credential: only a value after `=`, `:` or a command-line flag is masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "***"
MAX_EVIDENCE_CHARS = 240

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")

_SECRET_NAMES = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|account[_-]?key|"
    r"private[_-]?key|shared[_-]?access[_-]?key|credentials?|signature|session[_-]?id|sessionid|"
    # Short words only as a word of their own: `pass=` and `DB_PASS=` but not `passed:`, `sig=` but
    # not `signal:`, `auth:` but not `oauth2:` or `fe_sendauth:`.
    r"(?<![a-z])(?:pass|sig|auth)(?![a-z])"
)
"""Words that make a `name=value` a credential, inside a longer name (`DB_PASSWORD`,
`client_secret`, `X-Amz-Signature`, `x-api-key`, `PGPASSWORD`)."""
_FLAG_NAMES = r"password|passwd|pass|pwd|secret|token|api-?key|access-key|auth|requirepass"
"""Command-line flags whose next word is a credential (`--password x`, `--requirepass x`)."""


@dataclass(frozen=True, slots=True)
class SecretForm:
    """One credential shape: how to find it, what replaces it, and a real-world example."""

    name: str
    """Readable id, used as the test id."""
    pattern: re.Pattern[str]
    replacement: str
    example: str
    """A line as such a leak looks in a crash log."""
    secret: str
    """The part of `example` that must never be shown."""
    kept: str
    """A part of `example` that must stay readable."""
    seen: str
    """Where this shape is seen leaking (program, log line, public issue)."""


def _form(name: str, pattern: str, replacement: str, *, example: str, secret: str, kept: str, seen: str) -> SecretForm:
    return SecretForm(name, re.compile(pattern), replacement, example, secret, kept, seen)


# Applied in order: specific shapes first (a PEM block, a URL's userinfo, vendor key prefixes),
# then the generic `name=value` forms, so a value already masked is not matched again.
FORMS: tuple[SecretForm, ...] = (
    _form(
        "pem_private_key",
        # A whole block, or its first line when the block was cut.
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        MASK,
        example='invalid credentials: {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----'
        '\\nMIIEvQIBADANBgkqhkiG9w0\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@p.iam.gserviceaccount.com"}',
        secret="MIIEvQIBADANBgkqhkiG9w0",
        kept='"client_email": "ci@p.iam.gserviceaccount.com"',
        seen="GCP service-account JSON printed by a failing credentials loader; TLS keys in env vars",
    ),
    _form(
        "url_user_password",
        # scheme://user:password@host; the authority runs to the last @ before the path, so a
        # password containing @ is masked whole.
        r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@?#]*):([^\s/?#]*)@",
        rf"\1\2:{MASK}@",
        example="FATAL could not connect to postgres://app:s3cr3tPass@db.prod:5432/app",
        secret="s3cr3tPass",
        kept="db.prod:5432/app",
        seen="Play datasource log (playframework#3761), AMQP/MongoDB URLs in connection errors",
    ),
    _form(
        "url_empty_user_password",
        r"(?i)\b([a-z][a-z0-9+.-]*://):([^\s/?#]*)@",
        rf"\1:{MASK}@",
        example="Error: connect ECONNREFUSED redis://:hunter2@redis:6379/0",
        secret="hunter2",
        kept="redis:6379/0",
        seen="redis://:<password>@host URLs logged on connect (plastic-labs/honcho#866, issue 12)",
    ),
    _form(
        "url_token_as_user",
        # scheme://TOKEN@host with no colon: GitHub PATs in clone URLs, redis://password@host.
        # A plain user name is masked too: it is one word of evidence, a token is a credential.
        r"(?i)\b((?:https?|git|redis|rediss|amqps?|mongodb(?:\+srv)?)://)(?![^\s/?#@]*:)([^\s/?#@]+)@",
        rf"\1{MASK}@",
        example="fatal: unable to access https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/org/repo.git",
        secret="ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        kept="github.com/org/repo.git",
        seen="git remote URLs with a PAT (preloop#173), Hangfire's redis://password@host (Hangfire#474)",
    ),
    _form(
        "slack_webhook",
        r"(?i)\b(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+",
        rf"\1{MASK}",
        example="POST https://hooks.slack.com/services/T0123ABCD/B0123ABCD/aBcDeFgHiJkLmNoPqRsTuVwX failed: 404",
        secret="aBcDeFgHiJkLmNoPqRsTuVwX",
        kept="failed: 404",
        seen="alerting sidecars logging the webhook URL they could not post to",
    ),
    _form(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        MASK,
        example="invalid id_token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl for issuer",
        secret="eyJzdWIiOiIxIn0",
        kept="for issuer",
        seen="OIDC libraries quoting the token they rejected; Kubernetes service-account tokens",
    ),
    _form(
        "stripe_key",
        r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{16,}",
        MASK,
        example="stripe: Invalid API Key provided: sk_live_51H8aBcDeFgHiJkLmN (status 401)",
        secret="sk_live_51H8aBcDeFgHiJkLmN",
        kept="(status 401)",
        seen="Stripe SDK errors echo the key: `Invalid API Key provided: sk_live_...`",
    ),
    _form(
        "stripe_restricted_key",
        r"\brk_live_[A-Za-z0-9]{8,}",
        MASK,
        example="using restricted key rk_live_51AbCdEfGhIjKlMnOp",
        secret="rk_live_51AbCdEfGhIjKlMnOp",
        kept="using restricted key",
        seen="Stripe restricted keys printed by a config dump at start-up",
    ),
    _form(
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
        MASK,
        example="InvalidAccessKeyId: The AWS Access Key Id AKIAIOSFODNN7EXAMPLE does not exist",
        secret="AKIAIOSFODNN7EXAMPLE",
        kept="does not exist",
        seen="S3 SignatureDoesNotMatch bodies quote <AWSAccessKeyId>ASIA...</AWSAccessKeyId> (minio#5630)",
    ),
    _form(
        "github_token",
        r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}",
        MASK,
        example="Bad credentials for github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz012345 (401)",
        secret="github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz012345",
        kept="Bad credentials",
        seen="fine-grained PATs in clone URLs and `git remote -v` output (preloop#173)",
    ),
    _form(
        "gitlab_token",
        r"\bgl(?:pat|dt|rt|ptt|soat|cbt|agent)-[A-Za-z0-9_-]{20,}",
        MASK,
        example="401 Unauthorized with token glpat-xY3aBcDeFgHiJkLmNoPq at gitlab.example.com",
        secret="glpat-xY3aBcDeFgHiJkLmNoPq",
        kept="gitlab.example.com",
        seen="okhttp logging `Authorization: Bearer glpat-...` (labnex#51)",
    ),
    _form(
        "slack_token",
        r"\bxox[abprse]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{10,}",
        MASK,
        example="slack: invalid_auth for xoxb-123456789012-1234567890123-aBcDeFgHiJkLmNoPqRsT",
        secret="xoxb-123456789012-1234567890123-aBcDeFgHiJkLmNoPqRsT",
        kept="invalid_auth",
        seen="Slack bot tokens in bot start-up errors",
    ),
    _form(
        "google_api_key",
        r"\bAIza[0-9A-Za-z_-]{35}",
        MASK,
        example="googleapi: Error 400: API key not valid. key=AIzaSyA1bCdEfGhIjKlMnOpQrStUvWxYz012345",
        secret="AIzaSyA1bCdEfGhIjKlMnOpQrStUvWxYz012345",
        kept="API key not valid",
        seen="Google client libraries quoting the request URL `?key=AIza...`",
    ),
    _form(
        "google_oauth_token",
        r"\bya29\.[0-9A-Za-z_-]{20,}",
        MASK,
        example="token ya29.a0AfH6SMBx3DeFgHiJkLmNoPqRsTuVwXyZ expired",
        secret="ya29.a0AfH6SMBx3DeFgHiJkLmNoPqRsTuVwXyZ",
        kept="expired",
        seen="gcloud/ADC access tokens in verbose HTTP logs",
    ),
    _form(
        "llm_api_key",
        r"\bsk-(?:proj-|ant-(?:api\d+-)?|svcacct-)?[A-Za-z0-9_-]{20,}",
        MASK,
        example="openai.AuthenticationError: Incorrect API key provided: sk-proj-AbCdEfGhIjKlMnOpQrStUv1234",
        secret="sk-proj-AbCdEfGhIjKlMnOpQrStUv1234",
        kept="Incorrect API key provided",
        seen="OpenAI/Anthropic SDK errors echo the key they were given",
    ),
    _form(
        "package_registry_token",
        r"\bnpm_[A-Za-z0-9]{36}\b|\bpypi-[A-Za-z0-9_-]{50,}",
        MASK,
        example="npm ERR! 403 token npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 lacks publish",
        secret="npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        kept="lacks publish",
        seen="npm/PyPI publish jobs run as Kubernetes Jobs",
    ),
    _form(
        "sendgrid_key",
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
        MASK,
        example="sendgrid: 401 for SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJ",
        secret="SG.aBcDeFgHiJkLmNoPqRsTuV.wXyZ0123456789aBcDeFgHiJ",
        kept="sendgrid: 401",
        seen="mailer start-up checks printing the key",
    ),
    _form(
        "authorization_header",
        # `Authorization: <scheme> <credentials>` (or `Proxy-Authorization`, or an Authorization
        # key in a header dump): whatever the scheme, the credentials go; the scheme stays.
        r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
        r"((?:basic|bearer|token|apikey|api-key|digest|negotiate|ntlm|ssws|splunk|sharedaccesssignature|"
        r"aws4-hmac-sha256)\s+)?(?!\*\*\*)[^\s\"',;]+(?![^\s\"',;])(?!\s*\*\*\*)",
        rf"\1\2{MASK}",
        example="> GET /api HTTP/1.1 > Authorization: Basic dXNlcjpodW50ZXIy > Accept: */*",
        secret="dXNlcjpodW50ZXIy",
        kept="Authorization: Basic",
        seen="curl -v traces and request loggers dumping headers (caduceus#192, platformsh/legacy-cli#1474)",
    ),
    _form(
        "auth_scheme_token",
        # A bare scheme word then a credential-looking value (a digit, a base64 tail, or long),
        # so "Bearer token validation failed" and "basic authentication" stay readable.
        r"(?i)\b(bearer|basic|token|apikey|api-key)(\s+)(?!\*\*\*)"
        r"(?=[A-Za-z0-9._~+/=-]*(?:\d|=)|[A-Za-z0-9._~+/=-]{20})[A-Za-z0-9._~+/=-]{8,}",
        rf"\1\2{MASK}",
        example="elasticsearch: security_exception using ApiKey "
        "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        secret="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
        kept="security_exception using ApiKey",
        seen="Elasticsearch `ApiKey <base64>` and `Bearer <token>` in client error messages",
    ),
    _form(
        "mysql_short_password",
        # mysql, mysqldump, mysqladmin, mariadb: `-pSECRET` (no space) is the password; `-p` alone
        # prompts and `-P3306` is the port.
        r"(\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlimport|mysqlpump)\b[^\n]*?\s-p)([\"']?)(?!\*\*\*)[^\s\"']+",
        rf"\1\2{MASK}",
        example="+ mysql -h db -u root -psecret123 app < /init.sql",
        secret="secret123",
        kept="app < /init.sql",
        seen="init scripts run with `set -x` (MySQL manual: `mysql -u francis -pfrank db_name`)",
    ),
    _form(
        "password_flag_separate",
        # `--password hunter2`, `-password hunter2`, `--token abc`: a flag and its value as two argv
        # words, as entrypoint scripts echo the command they run (`set -x`).
        rf"(?i)(?<![\w-])(--?[\w-]*?(?:{_FLAG_NAMES})[\w-]*)(\s+)(?![-*<])([\"']?)[^\s\"']+",
        rf"\1\2\3{MASK}",
        example="+ exec redis-server --port 6379 --requirepass hunter2 --appendonly yes",
        secret="hunter2",
        kept="--appendonly yes",
        seen="`set -x` traces of entrypoints (`--password hunter2`, `--requirepass`), kubectl `--token x`",
    ),
    _form(
        "curl_user_password",
        r"((?:^|\s)(?:-u|--user|--proxy-user)\s+[\"']?[^\s:\"']*:)(?!\*\*\*)[^\s\"']+",
        rf"\1{MASK}",
        example="+ curl -sf -u admin:hunter2 http://grafana:3000/api/health",
        secret="hunter2",
        kept="http://grafana:3000/api/health",
        seen="health-check and bootstrap scripts traced with `set -x`",
    ),
    _form(
        "name_value",
        # name=value / name: value / "name": "value" / 'name': 'value' / ?name=value&...: the name
        # says it is a credential. Covers JDBC `password=`, ADO.NET `Pwd=`, `PGPASSWORD=`,
        # `MYSQL_PWD=`, `client_secret=`, `access_token=`, `X-Amz-Signature=`, `&sig=` (Azure
        # SAS), `x-api-key: ...`, `AccountKey=`. The value stops at a quote, `,`, `;`, `&` or `}`.
        rf"(?i)(?<![A-Za-z0-9])([\w.-]*(?:{_SECRET_NAMES})[\w.-]*)([\"']?\s*[=:]\s*)([\"']?)(?!\*\*\*)(?![<{{\[])"
        r"([^\s\"',;&}]+)",
        rf"\1\2\3{MASK}",
        example="jdbc:postgresql://db:5432/app?user=app&password=s3cr3t&ssl=true refused",
        secret="s3cr3t",
        kept="ssl=true refused",
        seen="JDBC URLs in connection errors (kafka-connect-jdbc#1196, risingwave#19766)",
    ),
)
"""Every credential shape the redaction masks, in the order it applies them."""

EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    # (id, line, secret, kept): further real shapes the generic forms above must catch.
    ("pass_kv", "auth failed: user=app pass=hunter2 host=db", "hunter2", "host=db"),
    ("pwd_kv", "Server=db;Database=app;User Id=sa;Pwd=Secr3t!;Encrypt=true", "Secr3t!", "Encrypt=true"),
    ("password_flag_equals", "+ exec app --password=hunter2 --verbose", "hunter2", "--verbose"),
    ("password_flag_space", "+ exec app --password hunter2 --verbose", "hunter2", "--verbose"),
    ("pgpassword_env", "+ PGPASSWORD=hunter2 psql -h db -U app", "hunter2", "psql -h db -U app"),
    ("mysql_pwd_env", "MYSQL_PWD=hunter2 mysqladmin ping", "hunter2", "mysqladmin ping"),
    ("x_api_key_header", "request failed: x-api-key: 9f8e7d6c5b4a status=403", "9f8e7d6c5b4a", "status=403"),
    ("query_token", "GET https://api.example.com/v1/items?token=abc123def456&page=2 503", "abc123def456", "page=2 503"),
    ("query_sig", "GET https://acct.blob.core.windows.net/c/b?sv=2021&sr=b&sig=Zm9vYmFy%2Fbaz%3D 403",
     "Zm9vYmFy%2Fbaz%3D", "403"),
    ("amz_signature", "GET https://b.s3.amazonaws.com/k?X-Amz-Date=20240920T065555Z&X-Amz-Signature=3247218b9665e08b "
     "AccessDenied", "3247218b9665e08b", "AccessDenied"),
    ("amz_security_token", "X-Amz-Security-Token=IQoJb3JpZ2luX2VjEA0aDGV1LWNlbnRyYWwtMSJH expired",
     "IQoJb3JpZ2luX2VjEA0aDGV1LWNlbnRyYWwtMSJH", "expired"),
    ("access_token_query", "redirect to https://app/cb#access_token=ya30abc123xyz&expires_in=3600",
     "ya30abc123xyz", "expires_in=3600"),
    ("client_secret", "oauth2: cannot fetch token: client_id=web client_secret=GOCSPX-abc123 invalid_client",
     "GOCSPX-abc123", "invalid_client"),
    ("private_token_query", "GET https://gitlab.com/api/v4/users?page=25&private_token=PRIVATE_TOKEN_1 429",
     "PRIVATE_TOKEN_1", "429"),
    ("python_dict", "settings loaded: {'db_password': 'hunter2', 'debug': False}", "hunter2", "'debug': False"),
    ("json_secret_access_key", '{"accessKeyId":"ASIAVBKNXEL5HP2B4VXX","secretAccessKey":"ua4yHoe63fzyGNHZAH/RTC2"}',
     "ua4yHoe63fzyGNHZAH/RTC2", "accessKeyId"),
    ("aws_secret_env", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "aws"),
    ("azure_account_key", "DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=bXlrZXk0Mg==;EndpointSuffix=core",
     "bXlrZXk0Mg==", "EndpointSuffix=core"),
    ("bearer_header", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9",
     "Authorization: Bearer"),
    ("mongodb_srv", "MongoServerError: bad auth mongodb+srv://admin:P%40ss@cluster0.mongodb.net/db",
     "P%40ss", "cluster0.mongodb.net/db"),
    ("password_with_at", "could not connect to amqp://guest:p@ss@rabbit:5672/ (ECONNREFUSED)", "p@ss", "rabbit:5672"),
    ("yaml_quoted", "DB_PASSWORD: 'Pa55word!' invalid", "Pa55word!", "invalid"),
    ("token_kv", "--token=abcdef123456 rejected", "abcdef123456", "rejected"),
)
"""Lines with credentials that no vendor prefix identifies: the generic forms must mask them."""

SAFE_LINES: tuple[str, ...] = (
    'FATAL:  password authentication failed for user "app"',
    "psql: error: connection to server failed: fe_sendauth: no password supplied",
    "Error: couldn't find key DB_PASSWORD in Secret production/api-db-credentials",
    'secret "stripe-secret" not found',
    "panic: DATABASE_PASSWORD environment variable is not set",
    "KeyError: 'API_TOKEN'",
    "Bearer token validation failed: token expired",
    "basic authentication is disabled",
    "tests pass; mysql -p prompts for the password",
    "listening on http://0.0.0.0:8080/healthz",
)
"""Ordinary log words around credentials that must stay exactly as they are."""


def redact(text: str) -> str:
    """Mask credential values in `text`; the rest is unchanged."""
    for form in FORMS:
        text = form.pattern.sub(form.replacement, text)
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
