"""The per-request context every resolver receives."""

from dataclasses import dataclass, field
from typing import Any

import strawberry

from mailer.render import Composer
from schema.answer_cache import AnswerCache
from schema.catalog import Lang
from security.clock import Clock
from security.passwords import PasswordHasher
from security.policy import Policy


@dataclass(frozen=True, slots=True)
class Services:
    """What lives as long as the app: policy numbers, the clock, the hasher, the
    mail composer (sender and link base for the outbox) and the cache of address
    search answers (off unless sized)."""

    policy: Policy
    clock: Clock
    hasher: PasswordHasher
    composer: Composer = field(default_factory=Composer)
    answers: AnswerCache = field(default_factory=AnswerCache)


@dataclass
class Context:
    """One request: its language, its bearer token and the shared services."""

    services: Services
    lang: Lang = Lang.JA
    bearer: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)


Info = strawberry.Info[Context, None]
