"""errorCatalog: every code with message and remedy (manual 3.1 別紙)."""

from typing import Annotated

import strawberry

from resolvers.context import Info
from schema.catalog import ErrorCatalogEntry
from schema.enums import Lang
from schema.messages import ErrorCode, texts


def error_catalog(
    info: Info,
    lang: Annotated[
        Lang | None,
        strawberry.argument(
            description="Language of the texts; defaults to the request's "
            "language (`Accept-Language`, else Japanese)."
        ),
    ] = None,
) -> list[ErrorCatalogEntry]:
    """The manual's 25 codes in its order, then the service's extensions.

    No login needed. ``lang`` wins over the request's language.
    """
    language = lang if lang is not None else info.context.lang
    entries = []
    for code in ErrorCode:
        text = texts(code, language)
        entries.append(
            ErrorCatalogEntry(
                code=code.value,
                message=text.message,
                remedy=text.remedy,
                extension=code.is_extension,
            )
        )
    return entries
