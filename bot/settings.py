"""Typed settings from `config.toml`, each overridable as `JBL_<SECTION>__<KEY>`."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any
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

DEFAULT_CONFIG = Path("config.toml")
_URL_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


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


class TelegramSettings(Section):
    token: SecretStr | None = None
    api_base_url: str = Field("https://api.telegram.org/bot", pattern=r"^https?://")
    webhook_url: str | None = Field(None, pattern=r"^https?://[^/]+")
    secret_token: SecretStr | None = Field(None, validate_default=True)
    rate_per_s: float = Field(30.0, gt=0)
    per_chat_per_s: float = Field(1.0, gt=0)

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
    rate_per_s: float = Field(80.0, gt=0)
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


class BroadcastSettings(Section):
    weekday: int = Field(4, ge=0, le=6)
    time: str = "07:00"
    timezone: str = "Asia/Jakarta"

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM, e.g. 07:00")
        return value

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
        hours, minutes = self.time.split(":")
        return dt.time(int(hours), int(minutes))


class OrderSettings(Section):
    remind_after_minutes: int = Field(120, ge=1)
    expire_after_minutes: int = Field(1440, ge=1)


class I18nSettings(Section):
    default_language: str = Field("id", pattern="^(id|en)$")


class CatalogSettings(Section):
    page_size: int = Field(8, ge=1, le=8)


class MerchantSettings(Section):
    invite_valid_days: int = Field(7, ge=1, le=90)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JBL_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    telegram: TelegramSettings = TelegramSettings()
    whatsapp: WhatsappSettings = WhatsappSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    orders: OrderSettings = OrderSettings()
    i18n: I18nSettings = I18nSettings()
    catalog: CatalogSettings = CatalogSettings()
    merchants: MerchantSettings = MerchantSettings()

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


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("JBL_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path | None = None) -> Settings:
    """Reads the file (if there is one) and the environment; raises `SettingsError`."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path}: not valid TOML: {error}") from error
    try:
        return Settings(**data)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from error


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"])
    env = "JBL_" + "__".join(str(part).upper() for part in first["loc"])
    more = len(error.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"setting {name} ({env}): {first['msg']}{tail}"
