"""Settings from environment variables with the prefix ``RAS_``.

Every policy number is a setting so that operators can test with a few seconds
and production can tighten it without a release. An invalid value stops start-up
with a message naming the variable (see ``SettingsError``).
"""

from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MODELS_APP = "models"


class Environment(StrEnum):
    """Where the service runs; development turns GraphiQL on."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


def default_database_url() -> str:
    """The embedded default: a SQLite file under ./var/ of the working directory."""
    return f"sqlite://{(Path.cwd() / 'var' / 'ras-identity.sqlite3').resolve()}"


class Settings(BaseSettings):
    """All tunables of the service; each field is the variable ``RAS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RAS_", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default_factory=default_database_url)
    smtp_url: str | None = None

    session_idle_seconds: float = Field(default=1800.0, gt=0)
    session_max_seconds: float = Field(default=8 * 3600.0, gt=0)
    change_ticket_seconds: float = Field(default=900.0, gt=0)

    lockout_threshold: int = Field(default=5, ge=1, le=1000)
    lockout_seconds: float = Field(default=24 * 3600.0, gt=0)

    password_max_age_days: float = Field(default=365.0, gt=0)

    # OWASP's minimum for argon2id is m=19456 KiB, t=2, p=1; weaker is refused.
    argon2_time_cost: int = Field(default=2, ge=2, le=20)
    argon2_memory_kib: int = Field(default=19456, ge=19456, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)

    # Requests larger than this are refused (413) before they are parsed.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)

    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite", "postgres", "asyncpg", "psycopg"}:
            raise ValueError(
                "must be a Tortoise URL such as sqlite:///abs/path.sqlite3 or "
                "postgres://user@127.0.0.1:5432/db"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
            raise ValueError(
                "must look like smtp://host:25, smtp+starttls://user:pass@host:587 "
                "or smtps://host:465"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    def tortoise_config(self) -> dict[str, Any]:
        """The Tortoise ORM configuration for this database URL."""
        return tortoise_config(self.database_url)


class SettingsError(Exception):
    """An environment variable holds a value the service refuses to start with."""


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; raise SettingsError naming each bad ``RAS_`` variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "RAS_" + "_".join(str(p) for p in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise configuration with the models app and its migrations package."""
    return {
        "connections": {"default": database_url},
        "apps": {
            MODELS_APP: {
                "models": ["models"],
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Read by the `tortoise` command line (pyproject [tool.tortoise]) for makemigrations.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
