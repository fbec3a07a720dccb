"""me: the user-info screen (manual 2.4.2)."""

from resolvers.session import Authenticated, authenticate
from schema.account import MeResult
from schema.context import Info
from schema.types import User


async def me(info: Info) -> MeResult:
    """The logged-in user's information.

    - User; or an AuthError (not logged in, timed out, displaced → WZBAM099E,
      change ticket → WZBAM158E, account status).
    """
    auth = await authenticate(info)
    if not isinstance(auth, Authenticated):
        return auth
    return User.from_model(auth.user)
