"""Unexpected exceptions become WZBAM098E with an incident ID; never a traceback."""

import logging
import uuid

from graphql import GraphQLError

from models import Lang
from schema.messages import ErrorCode, texts

logger = logging.getLogger("ras_identity.incident")


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver (or the service around it) raised: a bug or an outage.

    Errors graphql-core makes itself (syntax, validation, variable coercion)
    describe a malformed request and go to the client as they are.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def incident_error(error: GraphQLError, lang: Lang) -> GraphQLError:
    """Log ``error`` with a fresh incident ID and return what the client sees."""
    incident = uuid.uuid4().hex
    logger.error(
        "incident %s at %s",
        incident,
        ".".join(str(p) for p in error.path or ()) or "-",
        exc_info=error.original_error,
    )
    text = texts(ErrorCode.SYSTEM_ERROR, lang)
    return GraphQLError(
        message=text.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={
            "code": ErrorCode.SYSTEM_ERROR.value,
            "remedy": text.remedy,
            "incidentId": incident,
        },
    )
