"""The 別紙 error list as a query (manual 3.1)."""

import strawberry

from schema.errors import ErrorKind


@strawberry.type(
    description="One entry of the error list (別紙「エラーメッセージ一覧」)."
)
class ErrorCatalogEntry:
    code: str = strawberry.field(description="The message ID, e.g. WZBAM153E.")
    message: str = strawberry.field(
        description="The message; 【入力項目名】 / [field name] stands for the item "
        "the error names."
    )
    remedy: str = strawberry.field(description="対応方法: what the user should do.")
    extension: bool = strawberry.field(
        description="True for this service's own codes (RASX…), which the manual "
        "does not list."
    )
    kind: ErrorKind = strawberry.field(
        resolver=lambda root: ErrorKind(root.code),
        description="The code as an `ErrorKind` value (`Error.kind`).",
    )
