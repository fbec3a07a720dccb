"""The per-request context every resolver receives."""

from dataclasses import dataclass, field
from typing import Any

import strawberry

from addresses.index import MunicipalityIndex
from mailer.render import Composer
from models import Lang, Origin
from schema.answer_cache import AnswerCache
from security.clock import Clock
from security.passwords import PasswordHasher
from security.policy import Policy
from security.secretbox import SecretBox


@dataclass(frozen=True, slots=True)
class Services:
    """What lives as long as the app: policy numbers, the clock, the hasher, the
    mail composer (sender and link base for the outbox), the cache of address
    search answers (off unless sized) and the box for secrets at rest."""

    policy: Policy
    clock: Clock
    hasher: PasswordHasher
    composer: Composer = field(default_factory=Composer)
    answers: AnswerCache = field(default_factory=AnswerCache)
    # Secrets at rest (applicants' TOTP secrets, recovery-code hashes); a
    # random key unless built from settings (RAS_SECRET_KEY).
    secrets: SecretBox = field(default_factory=SecretBox.ephemeral)
    # The municipality search, in memory (read again after its lifetime).
    municipalities: MunicipalityIndex = field(default_factory=MunicipalityIndex)


@dataclass
class Context:
    """One request: its language, its bearer token, the client's counter key
    (None for in-process callers, which no per-client limit applies to), its
    user agent and id (for the audit trail) and the shared services.
    ``retry_after`` is set when a limit answered, for the HTTP ``Retry-After``
    header."""

    services: Services
    lang: Lang = Lang.JA
    bearer: str | None = None
    client: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None
    # Cookie mode (a same-origin browser, app.view): the session token travels
    # in an HttpOnly cookie, never in an answer JavaScript can read. A token
    # issued by this request is set as the cookie; a logout clears it.
    cookie_mode: bool = False
    issued_token: str | None = None
    cookie_ended: bool = False
    # For the access log and the metrics (schema.pipeline sets them): the root
    # field that ran ("multiple" for several), the operation name the client
    # gave, and the outcome (the first root field's message ID, OK, CACHED or
    # BAD_REQUEST).
    operation: str | None = None
    operation_name: str | None = None
    outcome: str | None = None

    def hand_over(self, token: str) -> str:
        """The session token as the answer carries it: itself, or in cookie
        mode an empty string (the view sets the token as the cookie)."""
        if not self.cookie_mode:
            return token
        self.issued_token = token
        return ""

    @property
    def origin(self) -> Origin:
        """Where this request came from, as audit events record it."""
        return Origin(
            client=self.client, user_agent=self.user_agent, request_id=self.request_id
        )


Info = strawberry.Info[Context, None]
