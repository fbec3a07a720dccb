"""Bearer tokens: 256 random bits handed out once, kept only as a SHA-256 hash."""

import hashlib
import secrets

TOKEN_BYTES = 32
_AUTH_ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
AUTH_ID_LENGTH = 10


def new_token() -> str:
    """A fresh URL-safe token of 256 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def could_be_token(value: str) -> bool:
    """Issued tokens are 43 URL-safe ASCII characters; anything far from that is
    not looked up (and cannot fail to encode)."""
    return len(value) <= 128 and value.isascii()


def token_hash(token: str) -> str:
    """What the database stores: a high-entropy token needs no salt or slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_auth_id(value: str) -> bool:
    """Whether ``value`` has the form of an issued 認証ID (for safe logging)."""
    return len(value) == AUTH_ID_LENGTH and all(c in _AUTH_ID_ALPHABET for c in value)


def could_be_auth_id(value: str) -> bool:
    """Whether ``value`` (normalised) has a form an account's ID can have: ASCII
    letters and digits, at most 32 (the column's length)."""
    return (
        0 < len(value) <= 32
        and value.isascii()
        and value.isalnum()
        and value == value.upper()
    )


def new_auth_id() -> str:
    """A 認証ID: 10 characters without look-alikes (0/O, 1/I/L), about 49 bits."""
    return "".join(secrets.choice(_AUTH_ID_ALPHABET) for _ in range(AUTH_ID_LENGTH))
