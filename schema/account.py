"""User information (manual 2.4.2 利用者情報表示)."""

from typing import Annotated

import strawberry

from schema.errors import AuthError
from schema.types import User

MeResult = Annotated[
    User | AuthError,
    strawberry.union(
        "MeResult", description="The logged-in user's information, or why not."
    ),
]
