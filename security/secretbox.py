"""Secrets kept at rest under RAS_SECRET_KEY.

Applicants' TOTP secrets are needed in clear to check a code, so they are
stored encrypted (AES-256-GCM, the row's user id as associated data: a secret
copied into another row does not decrypt). Recovery codes are stored as
HMAC-SHA256 under a second key from the same secret, with the user id mixed
in: a copy of the database alone allows no offline guessing of either.

Both keys are derived from RAS_SECRET_KEY (HMAC-SHA256 with a label each), so
one setting serves both and neither key is the setting itself.
"""

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# What a stored ciphertext starts with (a later key or scheme gets v2).
_VERSION = "v1"
_NONCE_BYTES = 12
# RAS_SECRET_KEY: at least this many characters (e.g. `openssl rand -base64 32`).
MIN_SECRET_KEY_CHARS = 32


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under this key (another key, or the
    row was tampered with)."""


class SecretBox:
    """Encrypts small secrets and keys recovery-code hashes."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < MIN_SECRET_KEY_CHARS:
            raise ValueError(
                f"the secret key needs at least {MIN_SECRET_KEY_CHARS} characters"
            )
        material = secret_key.encode("utf-8")
        self._aead = AESGCM(_derive(material, b"ras-identity totp secrets v1"))
        self._code_key = _derive(material, b"ras-identity recovery codes v1")

    @classmethod
    def ephemeral(cls) -> "SecretBox":
        """A box with a random key that lives as long as the process (tests,
        and the in-process callers that build services without settings)."""
        return cls(secrets.token_urlsafe(48))

    def seal(self, plaintext: str, *, owner: int) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(owner))
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, owner: int) -> str:
        version, _, body = stored.partition(".")
        if version != _VERSION:
            raise SecretUnreadable(f"unknown format {version!r}")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(owner)
            )
        except (InvalidTag, ValueError) as exc:
            raise SecretUnreadable("does not decrypt under this key") from exc
        return plain.decode("utf-8")

    def code_hash(self, code: str, *, owner: int) -> str:
        """How a recovery code (cleaned) of ``owner`` is stored and looked up."""
        message = f"{owner}:{code}".encode()
        return hmac.new(self._code_key, message, hashlib.sha256).hexdigest()


def _derive(material: bytes, label: bytes) -> bytes:
    return hmac.new(material, label, hashlib.sha256).digest()


def _aad(owner: int) -> bytes:
    return f"user:{owner}".encode()


def development_key(path: Path) -> str:
    """The development stand-in for RAS_SECRET_KEY: a random key kept in
    ``path`` (made on first use, readable by its owner only), so that the
    embedded default keeps working across restarts. Production refuses to
    start without RAS_SECRET_KEY."""
    existing = _read_key(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: two processes starting at once
    # both end up with the key that got there first.
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    key = _read_key(path)
    if key is None:
        raise ValueError(
            f"{path}: holds no usable key; delete it or set RAS_SECRET_KEY"
        )
    return key


def _read_key(path: Path) -> str | None:
    try:
        key = path.read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return None  # not a key this function wrote
    return key if len(key) >= MIN_SECRET_KEY_CHARS else None
