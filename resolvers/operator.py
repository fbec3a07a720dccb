"""What operators do from the command line (`ras-identity user create`)."""

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from models import User
from resolvers.context import Services
from security.passwords import policy_violations
from security.text import gaiji, normalise_name, valid_email
from security.tokens import new_auth_id

_AUTH_ID_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class OperatorInputProblem:
    """One reason the operator's input was refused (a command-line option and
    what is wrong with it)."""

    field: str
    message: str


async def create_user(
    services: Services, *, email: str, name: str, password: str | None
) -> User | list[OperatorInputProblem]:
    """Create an active account with a fresh 認証ID.

    Every problem with the input is reported at once and nothing is written.
    Without a password the account exists but cannot log in until one is set.
    """
    problems: list[OperatorInputProblem] = []
    email = email.strip()
    if not valid_email(email):
        problems.append(
            OperatorInputProblem(
                "email", "not a half-width email address of at most 60 characters"
            )
        )
    if bad := gaiji(name):
        problems.append(
            OperatorInputProblem("name", f"外字 not allowed: {''.join(bad)}")
        )
    stored_name = normalise_name(name)
    if stored_name is None and not bad:
        problems.append(
            OperatorInputProblem(
                "name",
                "use half-width letters and spaces as in the passport (at most 104) "
                "or full-width characters (at most 26)",
            )
        )
    if password is not None:
        problems.extend(
            OperatorInputProblem("password", v.message_en)
            for v in policy_violations(password, auth_id="", policy=services.policy)
        )
    if not problems and await User.exists(email_key=User.email_key_of(email)):
        problems.append(
            OperatorInputProblem("email", "already registered to another account")
        )
    if problems or stored_name is None:
        return problems

    now = services.clock.now()
    password_hash = await services.hasher.hash(password) if password else None
    for _ in range(_AUTH_ID_ATTEMPTS):
        auth_id = new_auth_id()
        if password is not None and policy_violations(
            password, auth_id=auth_id, policy=services.policy
        ):
            continue  # the password happens to contain this ID: draw another
        try:
            return await User.create(
                auth_id=auth_id,
                name=stored_name,
                email=email,
                email_key=User.email_key_of(email),
                password_hash=password_hash,
                password_changed_at=now if password_hash else None,
                password_expires_at=(
                    now + services.policy.password_max_age if password_hash else None
                ),
                created_at=now,
            )
        except IntegrityError:
            if await User.exists(email_key=User.email_key_of(email)):
                return [
                    OperatorInputProblem(
                        "email", "already registered to another account"
                    )
                ]
            continue  # the random ID was taken; draw again
    raise RuntimeError("could not draw a free auth ID")
