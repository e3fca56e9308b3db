"""How `jbl` writes its log: `[log] format` text for a terminal, or JSON, one object per line,
for a log collector. Either way no secret and no person's phone number or chat id is written in
clear: a person is named by a keyed hash of their identity, the same in every process of one
deployment."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from bot.settings import Settings

# One line per message handled (bot.metrics): written in JSON only, a terminal would flood.
MESSAGES = "bot.messages"
HANDLER = "jbl"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# What a message's line carries besides the message, as `extra=` names them.
FIELDS = ("channel", "identity_hash", "message_id", "duration_ms", "outcome")
# `<channel>:<id>`: a Telegram user id, a WhatsApp number, a console name.
_IDENTITY = re.compile(r"\b(telegram|whatsapp|console):([+\w.@-]+)")
# A phone number in E.164, alone (a Twilio error, a merchant's number).
_PHONE = re.compile(r"(?<![\w+])\+\d{7,15}\b")
# The shape of a Telegram bot token, whichever bot it is.
_BOT_TOKEN = re.compile(r"\b\d{5,20}:[\w-]{30,}")


class IdentityHash:
    """A short keyed hash of an identity: lines of one person can be followed, and nobody
    without the key can tell whose they are (a phone number is too short a secret to hash
    without a key)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, identity: str) -> str:
        return hmac.new(self._key, identity.encode(), hashlib.sha256).hexdigest()[:12]


def identity_hash(settings: Settings) -> IdentityHash:
    """Keyed by the deployment's own secrets, which every process of it shares, so that their
    hashes agree; without any (a console chat), by a key of this process alone."""
    known = [secret for secret in _secrets(settings) if secret]
    key = "\n".join(known).encode() if known else secrets.token_bytes(32)
    return IdentityHash(hashlib.sha256(b"jbl log identity\n" + key).digest())


def _secrets(settings: Settings) -> list[str]:
    telegram, whatsapp = settings.telegram, settings.whatsapp
    given = [telegram.token, telegram.secret_token, whatsapp.auth_token]
    values = [secret.get_secret_value() for secret in given if secret is not None]
    if telegram.token is not None:
        # A Telegram token's part after the bot's id is a secret on its own.
        values.append(telegram.token.get_secret_value().split(":", 1)[-1])
    password = make_url(settings.database.url).password
    return values + ([str(password)] if password else [])


class Redactor:
    """Takes secrets, identities and phone numbers out of a line."""

    def __init__(self, secrets: Iterable[str], hashed: IdentityHash) -> None:
        # Longest first: a token before the part of it that is a secret too.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self._hashed = hashed

    def __call__(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "<secret>")
        line = _BOT_TOKEN.sub("<secret>", line)
        line = _IDENTITY.sub(lambda m: f"{m[1]}:#{self._hashed(m[0])}", line)
        return _PHONE.sub(lambda m: f"#{self._hashed('whatsapp:' + m[0])}", line)


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time, level, logger, message, the message's
    fields (`FIELDS`) when it has them, and the traceback as one string."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self._redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = self._redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(settings: Settings | None) -> None:
    """Writes the log to standard error in `[log] format` (text before the settings are
    read), every line redacted. Where a host set up logging already (pytest), it is left."""
    json_lines = settings is not None and settings.log.format == "json"
    if settings is None:
        redact = Redactor([], IdentityHash(secrets.token_bytes(32)))
    else:
        redact = Redactor(_secrets(settings), identity_hash(settings))
    formatter = JsonFormatter(redact) if json_lines else TextFormatter(redact)
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.name == HANDLER]
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.name = HANDLER
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(formatter)
    # jbl's own progress is worth seeing; httpx at INFO would log request URLs, and a
    # Telegram URL holds the bot token.
    logging.getLogger("bot").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger(MESSAGES).setLevel(logging.INFO if json_lines else logging.WARNING)
    if json_lines:
        # Warnings too go through the log, so that every line is in its format.
        logging.captureWarnings(True)
