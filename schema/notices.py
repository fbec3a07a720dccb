"""お知らせ as the portal's top page shows them (public, no login)."""

from datetime import datetime

import strawberry


@strawberry.type(
    description="お知らせ: a notice of the portal's top page, in the request's "
    "language."
)
class Notice:
    id: strawberry.ID = strawberry.field(description="The notice's id.")
    title: str = strawberry.field(description="Its title.")
    body: str = strawberry.field(description="Its text (plain text, line breaks kept).")
    starts_at: datetime = strawberry.field(description="Shown from this time.")
    ends_at: datetime = strawberry.field(description="Shown until this time.")
