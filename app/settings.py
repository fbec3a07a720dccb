"""Settings from environment variables with the prefix ``RAS_``.

Every policy number is a setting so that operators can test with a few seconds
and production can tighten it without a release. An invalid value stops start-up
with a message naming the variable (see ``SettingsError``).
"""

from email.utils import parseaddr
from enum import StrEnum
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from tortoise.backends.base.config_generator import expand_db_url

from app.sqlite import BUSY_TIMEOUT_MS
from security.clients import Network, parse_networks
from security.secretbox import MIN_SECRET_KEY_CHARS, SecretBox, development_key

MODELS_APP = "models"


class Environment(StrEnum):
    """Where the service runs; development turns GraphiQL on."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


def default_mail_dir() -> Path:
    """Where the embedded SMTP sink stores what it receives: ./var/mail/."""
    return (Path.cwd() / "var" / "mail").resolve()


def default_secret_key_file() -> Path:
    """Where development keeps its stand-in for RAS_SECRET_KEY: ./var/secret.key."""
    return (Path.cwd() / "var" / "secret.key").resolve()


def default_database_url() -> str:
    """The embedded default: a SQLite file under ./var/ of the working directory."""
    return f"sqlite://{(Path.cwd() / 'var' / 'ras-identity.sqlite3').resolve()}"


# Production refuses looser values than these (development allows them, for
# testing with a few seconds or many attempts).
PRODUCTION_MAX_LOCKOUT_THRESHOLD = 10
PRODUCTION_MAX_IDLE_SECONDS = 1800.0

# A worker renews its heartbeat every 10 s (models.heartbeat.BEAT_INTERVAL; a
# test keeps the two together): a shorter limit would call a busy but healthy
# worker dead after a beat or two came late.
MIN_READY_WORKER_SECONDS = 30.0


def parse_origins(value: str) -> tuple[str, ...]:
    """Comma-separated exact origins (``https://portal.example.jp``, a port
    allowed, no path, no wildcard), lower-cased; ValueError names a bad one."""
    origins = []
    for part in value.split(","):
        if not (part := part.strip()):
            continue
        parts = urlsplit(part)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or "*" in part
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise ValueError(
                f"{part!r} is not an origin such as https://portal.example.jp"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


class Settings(BaseSettings):
    """All tunables of the service; each field is the variable ``RAS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RAS_", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(default_factory=default_database_url)
    # No SMTP URL: mail goes over SMTP to an embedded sink that writes .eml files
    # under mail_dir (development only; production refuses to start without it).
    smtp_url: str | None = None
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_dir: Path = Field(default_factory=default_mail_dir)
    mail_from: str = "在留申請オンラインシステム <no-reply@localhost>"
    public_url: str = "http://127.0.0.1:8000"

    # The delivery worker (inside `serve` unless turned off, or `ras-identity worker`).
    mail_worker: bool = True
    mail_batch_size: int = Field(default=50, ge=1, le=1000)
    mail_poll_seconds: float = Field(default=1.0, gt=0, le=3600)
    mail_retry_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    mail_retry_max_seconds: float = Field(default=60.0, gt=0, le=86400)
    mail_max_attempts: int = Field(default=100, ge=1, le=10000)
    mail_claim_seconds: float = Field(default=300.0, gt=0, le=86400)
    mail_sweep_seconds: float = Field(default=300.0, gt=0, le=86400)

    # /readyz: a mail worker is expected to have reported (its heartbeat, every
    # 10 s) within this many seconds; 0 when no worker is expected (the check
    # is skipped). Each database check of /readyz and /healthz gives up after
    # ready_timeout_seconds.
    ready_worker_seconds: float = Field(default=60.0, ge=0, le=86400)
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    session_idle_seconds: float = Field(default=1800.0, gt=0)
    session_max_seconds: float = Field(default=8 * 3600.0, gt=0)
    change_ticket_seconds: float = Field(default=900.0, gt=0)

    lockout_threshold: int = Field(default=5, ge=1, le=1000)
    lockout_seconds: float = Field(default=24 * 3600.0, gt=0)

    # Staff of the admin API: their own lockout threshold (same lock duration)
    # and session limits (15 minutes idle: a dashboard left open on a desk).
    staff_lockout_threshold: int = Field(default=5, ge=1, le=100)
    staff_idle_seconds: float = Field(default=900.0, gt=0, le=86400)
    staff_session_max_seconds: float = Field(default=8 * 3600.0, gt=0, le=7 * 86400)

    password_max_age_days: float = Field(default=365.0, gt=0)
    password_min_length: int = Field(default=8, ge=8, le=128)
    password_max_length: int = Field(default=32, ge=8, le=128)
    # "Not one of the last N passwords" (the current one included).
    password_history: int = Field(default=3, ge=1, le=24)
    # Refuse a very common password with digits/symbols added (Password1!):
    # how many of the most common count as "very".
    common_password_base_rank: int = Field(default=1000, ge=0, le=30000)
    setup_link_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    reset_link_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    email_revert_days: float = Field(default=7.0, gt=0, le=90)
    # Password-reset requests per auth ID, and registrations per email address,
    # allowed within one window.
    reset_request_limit: int = Field(default=5, ge=1, le=1000)
    registration_limit: int = Field(default=3, ge=1, le=1000)
    email_change_limit: int = Field(default=3, ge=1, le=1000)
    request_window_seconds: float = Field(default=3600.0, gt=0, le=7 * 86400)
    # Changing the email address needs the password checked on the session
    # within this many seconds (login or reauthenticate).
    step_up_seconds: float = Field(default=600.0, gt=0, le=86400)
    # Limits per client address (see Policy), and the proxies whose
    # X-Forwarded-For is believed (comma-separated CIDRs; none by default).
    client_login_failure_limit: int = Field(default=20, ge=1, le=100000)
    client_login_window_seconds: float = Field(default=600.0, gt=0, le=86400)
    client_registration_limit: int = Field(default=10, ge=1, le=100000)
    client_reset_request_limit: int = Field(default=10, ge=1, le=100000)
    client_link_limit: int = Field(default=30, ge=1, le=100000)
    client_window_seconds: float = Field(default=3600.0, gt=0, le=7 * 86400)
    link_attempt_limit: int = Field(default=10, ge=1, le=1000)
    trusted_proxies: str = ""
    # Origins (scheme://host[:port], comma-separated) whose pages may call the
    # API from the browser with a Bearer token (CORS). Empty: none.
    cors_origins: str = ""
    # registerUser and requestPasswordReset are answered no sooner than this after
    # their input checks (hides whether an account exists; see the README).
    answer_floor_ms: float = Field(default=100.0, ge=0, le=5000)

    # OWASP's minimum for argon2id is m=19456 KiB, t=2, p=1; weaker is refused.
    argon2_time_cost: int = Field(default=2, ge=2, le=20)
    argon2_memory_kib: int = Field(default=19456, ge=19456, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    # Hashing threads per process (0: one per core) and how much lower their
    # OS priority is than the event loop's (Linux per-thread nice, 0-19):
    # bench/audit_cost.py measured login throughput ÷ hashing ceiling 0.38
    # with the default executor's 6 threads, 0.44 with 2, 0.56 with 2 at
    # nice 10 (the loop, answering, is no longer starved by hashing).
    hash_threads: int = Field(default=0, ge=0, le=256)
    hash_nice: int = Field(default=10, ge=0, le=19)

    # Requests larger than this are refused (413) before they are parsed.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)

    # Answers of the public address queries kept per process, in MB of JSON (0
    # turns it off), and for how long: after `data load-municipalities`, other
    # processes may answer from the old data for at most this long.
    answer_cache_mb: float = Field(default=32.0, ge=0, le=4096)
    answer_cache_seconds: float = Field(default=300.0, gt=0, le=86400)

    # The audit trail: how long events are kept (whole sealed segments older
    # than this are purged, and the purge is recorded), and how often queued
    # events are sealed into the hash chain (by the delivery worker's process).
    audit_retention_days: float = Field(default=400.0, gt=0, le=3650)
    audit_seal_seconds: float = Field(default=1.0, gt=0, le=3600)

    # The key that encrypts applicants' TOTP secrets at rest and keys their
    # recovery codes' hashes (at least 32 characters, e.g. `openssl rand
    # -base64 32`). Production refuses to start without it; development keeps
    # a random one in secret_key_file. Changing it makes every enrolled
    # authenticator and recovery code unusable (staff then use resetTotp).
    secret_key: SecretStr | None = None
    secret_key_file: Path = Field(default_factory=default_secret_key_file)
    # Applicants' two-step login: the name authenticator apps show for the
    # account, how long a begun enrolment waits for its first code, and how
    # long the code step of a login waits after the right password.
    totp_issuer: str = Field(
        default="在留申請オンラインシステム", min_length=1, max_length=64
    )
    totp_enrollment_seconds: float = Field(default=600.0, gt=0, le=3600)
    totp_challenge_seconds: float = Field(default=300.0, gt=0, le=900)

    log_level: str = "INFO"
    # "text" (development's default) or "json": one JSON object a line, with
    # the request id, client address, operation and outcome on access lines.
    log_format: Literal["text", "json"] = "text"
    # Serve /metrics on this port (of RAS_METRICS_HOST) instead of the public
    # one; unset: /metrics is a route of the public port.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # How often each web process reads the outbox's figures into the gauges.
    metrics_refresh_seconds: float = Field(default=15.0, gt=0, le=3600)

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

    @field_validator("ready_worker_seconds")
    @classmethod
    def _check_ready_worker_seconds(cls, value: float) -> float:
        if 0 < value < MIN_READY_WORKER_SECONDS:
            raise ValueError(
                f"must be 0 (no mail worker expected) or at least "
                f"{MIN_READY_WORKER_SECONDS:g} (three of the worker's 10 s heartbeats)"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (
            parts.scheme not in {"smtp", "smtps", "smtp+starttls"}
            or not parts.hostname
            or port == 0
            or port == -1
        ):
            raise ValueError(
                "must look like smtp://host:25, smtp+starttls://user:pass@host:587 "
                "or smtps://host:465"
            )
        if parts.scheme == "smtp" and parts.username and not _loopback(parts.hostname):
            # A password must not cross the network in clear text.
            raise ValueError(
                "sends credentials only over TLS: use smtp+starttls:// or smtps://"
            )
        return value

    @field_validator("smtp_ca_file")
    @classmethod
    def _check_ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("must be a readable PEM file of trusted certificates")
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, _, domain = address.rpartition("@")
        if not local or not domain or not address.isascii() or "\n" in value:
            raise ValueError(
                "must be an address such as no-reply@example.go.jp or "
                "'在留申請オンラインシステム <no-reply@example.go.jp>'"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be the portal's http(s) address")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the bad entry
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: str) -> str:
        parse_origins(value)  # ValueError names the bad entry
        return value

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """RAS_CORS_ORIGINS as exact origins."""
        return parse_origins(self.cors_origins)

    @property
    def public_origin(self) -> str:
        """The origin of RAS_PUBLIC_URL (where the portal is served)."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def secure_cookies(self) -> bool:
        """Whether the session cookie is Secure: always, except in development
        when RAS_PUBLIC_URL is http on a loopback address (a browser would not
        send a Secure cookie back over plain http)."""
        parts = urlsplit(self.public_url)
        loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
        return not (self.is_development and parts.scheme == "http" and loopback)

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        """RAS_TRUSTED_PROXIES as networks."""
        return parse_networks(self.trusted_proxies)

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_KEY_CHARS:
            raise ValueError(
                f"needs at least {MIN_SECRET_KEY_CHARS} characters (e.g. the output "
                "of `openssl rand -base64 32`)"
            )
        return value

    @field_validator("totp_issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        if ":" in value or not value.isprintable():
            raise ValueError("printable characters without a colon")
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

    @model_validator(mode="after")
    def _check_password_lengths(self) -> "Settings":
        if self.password_min_length > self.password_max_length:
            raise ValueError(
                "RAS_PASSWORD_MIN_LENGTH must not exceed RAS_PASSWORD_MAX_LENGTH"
            )
        return self

    @model_validator(mode="after")
    def _check_lease(self) -> "Settings":
        # A batch renews its claim when half the lease is gone; the other half
        # must hold the slowest message (a few SMTP commands, each up to the
        # timeout), or a second worker could take the row over mid-send.
        if self.mail_claim_seconds < 10 * self.smtp_timeout_seconds:
            raise ValueError(
                "RAS_MAIL_CLAIM_SECONDS must be at least 10 × RAS_SMTP_TIMEOUT_SECONDS"
            )
        return self

    def production_problems(self) -> list[str]:
        """What keeps this configuration from serving real users."""
        problems = []
        if self.smtp_url is None:
            problems.append(
                "RAS_SMTP_URL: required in production (without it mail only "
                "reaches the local sink)"
            )
        if urlsplit(self.public_url).scheme != "https":
            problems.append("RAS_PUBLIC_URL: must be https:// in production")
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2].lower()
        if domain == "localhost" or "." not in domain:
            problems.append(
                "RAS_MAIL_FROM: needs the agency's sending domain in production"
            )
        if urlsplit(self.database_url).scheme == "sqlite":
            problems.append(
                "RAS_DATABASE_URL: SQLite is the development database; production "
                "needs PostgreSQL (postgres://…)"
            )
        smtp = urlsplit(self.smtp_url or "")
        if smtp.scheme == "smtp" and not _loopback(smtp.hostname or ""):
            problems.append(
                "RAS_SMTP_URL: plain smtp:// to another host sends mail (and its "
                "one-time links) unencrypted; use smtp+starttls:// or smtps://"
            )
        if self.log_level == "DEBUG":
            problems.append(
                "RAS_LOG_LEVEL: DEBUG logs request details; use INFO or above in "
                "production"
            )
        if self.secret_key is None:
            problems.append(
                "RAS_SECRET_KEY: required in production (it encrypts applicants' "
                "TOTP secrets at rest); e.g. `openssl rand -base64 32`"
            )
        if self.lockout_threshold > PRODUCTION_MAX_LOCKOUT_THRESHOLD:
            problems.append(
                f"RAS_LOCKOUT_THRESHOLD: at most {PRODUCTION_MAX_LOCKOUT_THRESHOLD} "
                "failures before a lock in production"
            )
        if self.staff_lockout_threshold > PRODUCTION_MAX_LOCKOUT_THRESHOLD:
            problems.append(
                "RAS_STAFF_LOCKOUT_THRESHOLD: at most "
                f"{PRODUCTION_MAX_LOCKOUT_THRESHOLD} failures before a lock in "
                "production"
            )
        if self.session_idle_seconds > PRODUCTION_MAX_IDLE_SECONDS:
            problems.append(
                f"RAS_SESSION_IDLE_SECONDS: at most {PRODUCTION_MAX_IDLE_SECONDS:.0f} "
                "(30 minutes, manual 1.3) in production"
            )
        if self.answer_floor_ms == 0:
            problems.append(
                "RAS_ANSWER_FLOOR_MS: 0 lets answer times tell which addresses and "
                "auth IDs have accounts; keep a floor in production"
            )
        for name, value in (
            ("setup_link_hours", self.setup_link_hours),
            ("reset_link_minutes", self.reset_link_minutes),
        ):
            default = type(self).model_fields[name].default
            if value > default:
                problems.append(
                    f"RAS_{name.upper()}: at most the default {default:g} in "
                    "production (a mailed link is a password for its lifetime)"
                )
        return problems

    def secret_box(self) -> SecretBox:
        """The box for secrets at rest: RAS_SECRET_KEY, or in development the
        key kept in RAS_SECRET_KEY_FILE (made on first use)."""
        if self.secret_key is not None:
            return SecretBox(self.secret_key.get_secret_value())
        if not self.is_development:
            raise SettingsError("RAS_SECRET_KEY: required in production")
        try:
            return SecretBox(development_key(self.secret_key_file))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"RAS_SECRET_KEY_FILE: {exc}") from None

    def tortoise_config(self) -> dict[str, Any]:
        """The Tortoise ORM configuration for this database URL."""
        return tortoise_config(self.database_url)


def _loopback(host: str) -> bool:
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class SettingsError(Exception):
    """An environment variable holds a value the service refuses to start with."""


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; raise SettingsError naming each bad ``RAS_`` variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["loc"]:
                name = "RAS_" + "_".join(str(p) for p in error["loc"]).upper()
                problems.append(f"{name}: {error['msg']}")
            else:  # a rule across several settings names them in its message
                problems.append(str(error["msg"]))
        raise SettingsError("invalid setting " + "; ".join(problems)) from None


def connection_config(database_url: str) -> str | dict[str, Any]:
    """The connection: PostgreSQL as its URL; SQLite through app.sqlite (write
    transactions begin IMMEDIATE, so several processes can share the file)."""
    if urlsplit(database_url).scheme != "sqlite":
        return database_url
    config = expand_db_url(database_url)
    config["engine"] = "app.sqlite"
    config["credentials"].setdefault("busy_timeout", BUSY_TIMEOUT_MS)
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise configuration with the models app and its migrations package."""
    return {
        "connections": {"default": connection_config(database_url)},
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
