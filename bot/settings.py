"""Typed settings from `config.toml`, each overridable as `JBL_<SECTION>__<KEY>`."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from models.db import DEFAULT_POOL_SIZE
from models.people import WHATSAPP, canonical_identity
from models.results import MOST_EDITIONS

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("config.toml")
_URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
ENV_PREFIX = "JBL_"
# JBL_ variables that are not settings: the file to read, and the tests' and benchmarks' own.
NOT_SETTINGS = frozenset({"JBL_CONFIG", "JBL_TEST_DATABASE_URL", "JBL_BENCH_PROFILE"})
# Telegram's paid broadcasts, its fastest, allow 1000 messages a second and Twilio's senders
# fewer; beyond that a rate is a typo, and an infinite one would stall the sender's pacing.
MOST_SENDS_PER_S = 1000.0
# One send every 100 seconds: slower than that the sender would look stuck.
LEAST_SENDS_PER_S = 0.01
# An order waits for its merchant at most a month: longer is a typo, not a policy.
MOST_ORDER_MINUTES = 30 * 24 * 60


def _rate(default: float) -> Any:
    """A rate of sends per second, finite and within what a platform allows."""
    return Field(default, ge=LEAST_SENDS_PER_S, le=MOST_SENDS_PER_S, allow_inf_nan=False)


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///jbl.db"
    # PostgreSQL connections of one process (SQLite uses one).
    pool_size: int = Field(DEFAULT_POOL_SIZE, ge=1, le=500)

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        if not url.startswith(_URL_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_URL_SCHEMES)}")
        return url


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # /healthz says "degraded" while a reply or notice has waited longer than this to be sent.
    lag_degraded_s: float = Field(60.0, gt=0, le=86_400, allow_inf_nan=False)

    @field_validator("host")
    @classmethod
    def _address(cls, host: str) -> str:
        # An empty host would bind every interface; that must be asked for by name.
        if not host.strip() or host != host.strip():
            raise ValueError("must name an address, e.g. 127.0.0.1 (0.0.0.0 for every interface)")
        return host


class TelegramSettings(Section):
    token: SecretStr | None = None
    api_base_url: str = Field("https://api.telegram.org/bot", pattern=r"^https?://")
    webhook_url: str | None = Field(None, pattern=r"^https?://[^/]+")
    secret_token: SecretStr | None = Field(None, validate_default=True)
    rate_per_s: float = _rate(30.0)
    per_chat_per_s: float = _rate(1.0)
    # Telegram's paid broadcast (decision 0043): staff may choose it for a Friday; its sends
    # go at up to `paid_rate_per_s` and cost the bot's Stars.
    paid_broadcast: bool = False
    paid_rate_per_s: float = _rate(1000.0)

    @field_validator("token")
    @classmethod
    def _token(cls, token: SecretStr | None) -> SecretStr | None:
        # The shape BotFather gives; never echo the value itself.
        if token is not None and not re.fullmatch(r"\d{1,20}:[\w-]{10,}", token.get_secret_value()):
            raise ValueError("must look like 123456789:AAH… (the token BotFather gave)")
        return token

    @field_validator("secret_token")
    @classmethod
    def _secret(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if secret is None:
            if info.data.get("webhook_url"):
                raise ValueError("is required when telegram.webhook_url is set")
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret.get_secret_value()):
            raise ValueError("must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return secret


class WhatsappSettings(Section):
    """On when account_sid, auth_token and from_number are set; then public_url is needed."""

    account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = Field(None, validate_default=True)
    from_number: str | None = Field(None, validate_default=True)
    public_url: str | None = Field(None, pattern=r"^https?://[^/]+/?$", validate_default=True)
    api_base_url: str = Field("https://api.twilio.com", pattern=r"^https?://[^/]+/?$")
    rate_per_s: float = _rate(80.0)
    broadcast_content_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")
    notice_content_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.from_number)

    @field_validator("auth_token")
    @classmethod
    def _token(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if token is not None and not token.get_secret_value():
            token = None
        if token is None and info.data.get("account_sid"):
            raise ValueError("is required when whatsapp.account_sid is set")
        if token is not None and not info.data.get("account_sid"):
            raise ValueError("needs whatsapp.account_sid too")
        return token

    @field_validator("from_number")
    @classmethod
    def _sender(cls, number: str | None, info: ValidationInfo) -> str | None:
        if number is None:
            if info.data.get("account_sid"):
                raise ValueError("is required when whatsapp.account_sid is set, e.g. +6221…")
            return None
        if not info.data.get("account_sid"):
            raise ValueError("needs whatsapp.account_sid and auth_token too")
        try:
            sender = canonical_identity(number if ":" in number else f"{WHATSAPP}:{number}")
        except ValueError:
            sender = ""
        if not sender.startswith(f"{WHATSAPP}:"):
            raise ValueError("must be the WhatsApp sender's number, e.g. +6221…")
        return sender

    @field_validator("public_url")
    @classmethod
    def _public(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is None and info.data.get("from_number"):
            raise ValueError(
                "is required when WhatsApp is on: the https://host at which Twilio reaches jbl"
            )
        return url.rstrip("/") if url else url


class _Weekly(Section):
    """Something that happens once a week, at a local time HH:MM."""

    time: str = "07:00"

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM, e.g. 07:00")
        return value

    @property
    def at(self) -> dt.time:
        hours, minutes = self.time.split(":")
        return dt.time(int(hours), int(minutes))


class BroadcastSettings(_Weekly):
    weekday: int = Field(4, ge=0, le=6)
    timezone: str = "Asia/Jakarta"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("must be an IANA time zone, e.g. Asia/Jakarta") from error
        return value

    @property
    def send_time(self) -> dt.time:
        return self.at


# Excel's rows, less the product sheet's heading, total and note.
MOST_SHEET_PRODUCTS = 1_048_000


class ReportSettings(_Weekly):
    """When each staff member gets last Friday's report (Saturday by default), and how many
    editions of a category its best sellers and products without a sale span, and how many
    products the spreadsheet of `jbl report` lists (those with the largest omzet)."""

    weekday: int = Field(5, ge=0, le=6)
    editions: int = Field(4, ge=1, le=MOST_EDITIONS)
    sheet_products: int = Field(100_000, ge=1, le=MOST_SHEET_PRODUCTS)


class OrderSettings(Section):
    remind_after_minutes: int = Field(120, ge=1, le=MOST_ORDER_MINUTES)
    expire_after_minutes: int = Field(1440, ge=1, le=MOST_ORDER_MINUTES)
    # An accepted transfer/QRIS order unpaid this long expires; its buyer is reminded halfway.
    pay_within_minutes: int = Field(1440, ge=2, le=MOST_ORDER_MINUTES)


class I18nSettings(Section):
    default_language: str = Field("id", pattern="^(id|en)$")


class CatalogSettings(Section):
    page_size: int = Field(8, ge=1, le=8)
    # Products merchants add, or whose name, description or photo they change, wait for staff.
    review_new_products: bool = True
    # A product without a sale over its category's last this many editions, while others of
    # the category sold, is demoted (models.demotion); 0 demotes nothing.
    demote_after_fridays: int = Field(2, ge=0, le=MOST_EDITIONS)
    # In a category, products of the resident's own kecamatan come first within the same rank.
    local_first: bool = False


class MerchantSettings(Section):
    invite_valid_days: int = Field(7, ge=1, le=90)


class MediaSettings(Section):
    """Where photos and proofs sent in chat are kept: a directory, or S3-compatible storage."""

    # Empty: `media` beside the SQLite file, or in the working directory for PostgreSQL.
    path: str = ""
    # s3://BUCKET[/PREFIX][?endpoint=http://host:9000&region=…]; credentials from the
    # environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never here.
    s3_url: str | None = Field(
        None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^?#]*)?(\?[^#]*)?$"
    )


class WebSettings(Section):
    """The staff web console at `/admin` of the HTTP app."""

    # The https://host staff open it at (sign-in links point there); empty: whatsapp.public_url.
    public_url: str | None = Field(None, pattern=r"^https?://[^/]+/?$")
    # How long a session lasts after signing in with a link.
    session_hours: int = Field(12, ge=1, le=24 * 30)

    @field_validator("public_url")
    @classmethod
    def _public(cls, url: str | None) -> str | None:
        return url.rstrip("/") if url else None


class LogSettings(Section):
    # "json": one object per line, for a log collector; people are named by a keyed hash.
    format: Literal["text", "json"] = "text"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    telegram: TelegramSettings = TelegramSettings()
    whatsapp: WhatsappSettings = WhatsappSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    reports: ReportSettings = ReportSettings()
    orders: OrderSettings = OrderSettings()
    i18n: I18nSettings = I18nSettings()
    catalog: CatalogSettings = CatalogSettings()
    merchants: MerchantSettings = MerchantSettings()
    media: MediaSettings = MediaSettings()
    web: WebSettings = WebSettings()
    log: LogSettings = LogSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, which comes in as init arguments.
        return (env_settings, init_settings)

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.broadcast.timezone)

    @property
    def console_url(self) -> str | None:
        """Where staff open the web console: `[web] public_url`, else WhatsApp's."""
        base = self.web.public_url or self.whatsapp.public_url
        return f"{base}/admin" if base else None


def config_path(explicit: str | None = None) -> Path | None:
    """The settings file named by `--config` or `JBL_CONFIG`, if one is named."""
    named = explicit or os.environ.get("JBL_CONFIG")
    return Path(named) if named else None


def load_settings(path: Path | None = None) -> Settings:
    """Reads the file and the environment; raises `SettingsError`.

    A file that was named (`path`, or `JBL_CONFIG`) must be there; `./config.toml` may not be.
    `JBL_` variables that name no setting are logged as a warning, once per load.
    """
    path = path or config_path()
    data: dict[str, Any] = {}
    if path is not None:
        data = _read(path)
    elif DEFAULT_CONFIG.exists():
        data = _read(DEFAULT_CONFIG)
    for name, guess in unknown_variables(os.environ).items():
        hint = f"; did you mean {guess}?" if guess else ""
        log.warning("%s is not a setting of jbl and is ignored%s", name, hint)
    try:
        return Settings(**data)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from error


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as error:
        raise SettingsError(f"{path}: no such settings file") from error
    except IsADirectoryError as error:
        raise SettingsError(f"{path}: a directory, not a settings file") from error
    except OSError as error:
        raise SettingsError(f"{path}: cannot be read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise SettingsError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from error


def unknown_variables(environ: Mapping[str, str]) -> dict[str, str | None]:
    """`JBL_` variables whose section is no setting's, each with the likeliest one meant.

    The environment source ignores them silently, so a typo (`JBL_DATABSE__URL`) would leave
    the default in force. An unknown key of a known section is refused by validation instead.
    """
    names = [
        f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
        for section, field in Settings.model_fields.items()
        for key in field.annotation.model_fields  # type: ignore[union-attr]
    ]
    unknown: dict[str, str | None] = {}
    for name in environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NOT_SETTINGS:
            continue
        section = upper.removeprefix(ENV_PREFIX).split("__", 1)[0].lower()
        if section not in Settings.model_fields:
            unknown[name] = next(iter(difflib.get_close_matches(upper, names, n=1)), None)
    return unknown


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"])
    env = "JBL_" + "__".join(str(part).upper() for part in first["loc"])
    more = len(error.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    # pydantic prefixes our validators' own messages with "Value error, ".
    message = first["msg"].removeprefix("Value error, ")
    return f"setting {name} ({env}): {message}{tail}"
