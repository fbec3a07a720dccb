"""Optional OpenTelemetry tracing: one span per HTTP request, when the
OpenTelemetry SDK is installed (`pip install 'ras-identity[otel]'`) and
OTEL_EXPORTER_OTLP_ENDPOINT names a collector. Without either, nothing is
imported and requests pay nothing."""

import importlib.util
import logging
import os
from typing import Any

logger = logging.getLogger("ras_identity.tracing")

TRACER_NAME = "ras_identity"

_tracer: Any = None


def installed() -> bool:
    return importlib.util.find_spec("opentelemetry.sdk") is not None


def start_from_environment() -> bool:
    """Export spans over OTLP (HTTP) when OTEL_EXPORTER_OTLP_ENDPOINT is set
    and the packages are there; the SDK reads the rest of its OTEL_* settings
    (service name, headers, sampler) itself. True when tracing is on."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    if not installed():
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not "
            "installed (pip install 'ras-identity[otel]'); tracing stays off"
        )
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
    except ImportError:
        logger.warning(
            "the OTLP exporter is not installed "
            "(opentelemetry-exporter-otlp-proto-http); tracing stays off"
        )
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", "ras-identity")}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use(provider)
    logger.info("tracing: spans exported over OTLP")
    return True


def use(provider: Any | None) -> None:
    """Trace with ``provider`` (an SDK TracerProvider), or stop (None)."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer(TRACER_NAME)


def tracer() -> Any:
    """The tracer requests are traced with, or None when tracing is off."""
    return _tracer
