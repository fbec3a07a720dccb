"""Health endpoints for load balancers and orchestrators.

- ``/livez``: the process answers (no database access): restart it if not.
- ``/readyz``: it can serve: the database answers, its migrations are this
  release's, the address data is loaded, and (when one is expected) a mail
  worker reported lately. 200 or 503, with each check and its reason.
- ``/healthz``: the database answers (what load balancers have always asked).

Reasons name what is wrong and what to do, never a secret: a failed query is
told by its exception's class, never its text (which could quote a URL).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise import connections
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from addresses.load import DATA_SET
from app.settings import MODELS_APP, Settings, tortoise_config
from models import ReferenceData, WorkerHeartbeat
from security.clock import Clock

logger = logging.getLogger("ras_identity.health")

# Probes must see the answer of now, not a cache's.
_NO_STORE = {"Cache-Control": "no-store"}
_NAMES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check's outcome; ``reason`` says why it failed (or why a
    passing check was skipped or has something to report)."""

    ok: bool
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.reason is None:
            return {"ok": self.ok}
        return {"ok": self.ok, "reason": self.reason}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown + (", …" if len(names) > _NAMES_SHOWN else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Health:
    """The three endpoints, with the settings and clock they judge by."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.clock = clock
        self.timeout = settings.ready_timeout_seconds
        self.worker_limit = settings.ready_worker_seconds
        self.apps = {
            MODELS_APP: tortoise_config(settings.database_url)["apps"][MODELS_APP]
        }
        self._unready: list[str] | None = None

    def routes(self) -> list[Route]:
        return [
            Route("/livez", self.livez, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
        ]

    async def livez(self, request: Request) -> JSONResponse:
        """200 as long as the process answers at all."""
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def healthz(self, request: Request) -> JSONResponse:
        """200 when the database answers, 503 when it does not."""
        database = await self._run("database", self.database)
        if not database.ok:
            logger.warning("health check: database: %s", database.reason)
            return JSONResponse(
                {"status": "unavailable"}, status_code=503, headers=_NO_STORE
            )
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def readyz(self, request: Request) -> JSONResponse:
        """200 when every check passes, else 503; the body has them all."""
        checks = await self.check()
        ready = all(check.ok for check in checks.values())
        self._log_change(checks)
        return JSONResponse(
            {
                "status": "ready" if ready else "unready",
                "checks": {name: check.as_json() for name, check in checks.items()},
            },
            status_code=200 if ready else 503,
            headers=_NO_STORE,
        )

    async def check(self) -> dict[str, Check]:
        """Every check, by its name in the JSON body. Without a database the
        others cannot be judged (and Tortoise's migration recorder reads an
        unreadable table as empty), so they are not run."""
        database = await self._run("database", self.database)
        others: dict[str, Callable[[], Awaitable[Check]]] = {
            "migrations": self.migrations,
            "addressData": self.address_data,
            "mailWorker": self.mail_worker,
        }
        if not database.ok:
            skipped = Check(False, "not checked: the database did not answer")
            return {"database": database} | {name: skipped for name in others}
        return {"database": database} | {
            name: await self._run(name, check) for name, check in others.items()
        }

    async def _run(self, name: str, check: Callable[[], Awaitable[Check]]) -> Check:
        try:
            async with asyncio.timeout(self.timeout):
                return await check()
        except TimeoutError:
            return Check(False, f"no answer within {self.timeout:g} s")
        except Exception as exc:
            return Check(False, f"failed ({type(exc).__name__})")

    async def database(self) -> Check:
        await connections.get("default").execute_query("SELECT 1")
        return Check(True)

    async def migrations(self) -> Check:
        """Tortoise's own plan (its recorder table against the shipped files),
        as `ras-identity migrate` would apply it."""
        executor = MigrationExecutor(connections.get("default"), self.apps)
        steps = await executor.plan([MigrationTarget(MODELS_APP, "__latest__")])
        pending = [step.migration.name for step in steps if not step.backward]
        if pending:
            return Check(
                False,
                f"{_count(len(pending), 'migration')} not applied: "
                f"{_names(pending)} (run `ras-identity migrate`)",
            )
        shipped = {key.name for key in executor.loader.disk_migrations}
        unknown = sorted(
            key.name
            for key in executor.loader.applied_migrations
            if key.app_label == MODELS_APP and key.name not in shipped
        )
        if unknown:
            # A newer release migrated the database (a rolling deploy): this
            # process keeps serving; the migrations are meant to be compatible.
            return Check(
                True,
                f"the database also has {_count(len(unknown), 'migration')} this "
                f"release does not ship: {_names(unknown)}",
            )
        return Check(True)

    async def address_data(self) -> Check:
        if await ReferenceData.exists(name=DATA_SET):
            return Check(True)
        return Check(
            False,
            "no address data loaded (the address search finds nothing): run "
            "`ras-identity data load-municipalities`",
        )

    async def mail_worker(self) -> Check:
        if self.worker_limit == 0:
            return Check(
                True, "not checked: RAS_READY_WORKER_SECONDS is 0 (no worker expected)"
            )
        limit = f"limit {self.worker_limit:g} s"
        latest = await WorkerHeartbeat.latest_beat()
        if latest is None:
            return Check(False, f"no mail worker has reported ({limit})")
        # A beat from slightly ahead (another host's clock) counts as now.
        age = max(self.clock.now() - latest, timedelta(0))
        if age > timedelta(seconds=self.worker_limit):
            return Check(
                False,
                f"no mail worker has reported for {age.total_seconds():.0f} s "
                f"({limit})",
            )
        return Check(True)

    def _log_change(self, checks: dict[str, Check]) -> None:
        """Log when the answer changes, not on every probe."""
        unready = [
            f"{name}: {check.reason}" for name, check in checks.items() if not check.ok
        ]
        if unready == self._unready:
            return
        if unready:
            logger.warning("not ready: %s", "; ".join(unready))
        elif self._unready is not None:
            logger.info("ready again")
        self._unready = unready


def health_routes(settings: Settings, clock: Clock) -> list[Route]:
    """/livez, /readyz and /healthz for the app of ``settings``."""
    return Health(settings, clock).routes()
