"""The ASGI applications, and the composition root of the HTTP interfaces: the API dialects over the function
registry and its gates, the web interfaces, the OpenAPI documents, health, and the background work of a server
process. A server process serves two interfaces: the account's (UAPI and its pages, port 2083) and WHM (WHM API 1 and
the administration pages, port 2087), told apart by the port a request came in on (`ByPort`).

Here (and in the CLI) the container is taken apart: each interface receives only the parts it is made of.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hostpanel import __version__
from hostpanel.api import leaks
from hostpanel.api.api2 import dialect as api2
from hostpanel.api.auth import TokenPathGuard
from hostpanel.api.endpoint import Endpoint
from hostpanel.api.leaks import LeakReports
from hostpanel.api.openapi import build_openapi, build_whm_openapi
from hostpanel.api.uapi import dialect as uapi
from hostpanel.api.whm import dialect as whm
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Service
from hostpanel.domain.certificates.autossl import run_accounts
from hostpanel.domain.dns.provision import create_missing
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.principal import Principal
from hostpanel.domain.recovery import recover
from hostpanel.functions.gate import Gate, GateParts
from hostpanel.functions.registry import Registry
from hostpanel.http.middleware import SecurityHeaders
from hostpanel.modules import default_registry
from hostpanel.storage.changes import changes_for
from hostpanel.storage.engine import is_sqlite
from hostpanel.web.credentials import BrowserKeys
from hostpanel.web.page import Site
from hostpanel.web.routes import web_routes, whm_routes

log = logging.getLogger(__name__)


class DigitsConvertor(Convertor[str]):
    """A path segment of ASCII digits, kept as text: the `int` convertor's int() refuses thousands of digits, which
    turned `/cpsess<5000 digits>/execute/...` into a 500 and a traceback for anyone who sent it."""

    regex = "[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("digits", DigitsConvertor())


class Periodic:
    """Runs `action` every `interval` seconds on a daemon thread (never if 0), and once more at stop if `final`.

    A failure is logged (one line when the database is unreachable) and the work is retried next time."""

    def __init__(
        self,
        name: str,
        interval: float,
        action: Callable[[], object],
        final: bool = False,
        first: float | None = None,
    ) -> None:
        """`first`: the wait before the first run (default: `interval`)."""
        self._name = name
        self._interval = interval
        self._first = interval if first is None else first
        self._action = action
        self._final = final
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if self._final:
            self._once()

    def _run(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            self._once()
            wait = self._interval

    def _once(self) -> None:
        try:
            self._action()
        except OperationalError:
            log.warning("%s failed: the database is unreachable; it will be retried", self._name)
        except Exception:
            log.exception("%s failed; it will be retried", self._name)


def _send_expiry_notices(container: Container) -> None:
    with container.uow() as uow:
        container.expiry_notices(uow).send(container.settings.expiry_notice_days)
        uow.commit()


# AutoSSL's first run after a start: soon (a new server gets its certificates the same day), yet not in the way of
# the start itself or of short-lived servers.
AUTOSSL_FIRST_SECONDS = 300.0


def _run_autossl(container: Container) -> None:
    container.forget_orphan_certificates()
    with container.read() as uow:
        accounts = container.accounts(uow).all()
    for username, outcomes in run_accounts(accounts, container.autossl).items():
        for outcome in outcomes:
            if outcome.result != "skipped":
                log.info("AutoSSL %s %s: %s %s", username, outcome.domain, outcome.result, outcome.error or "")


def gate(container: Container, registry: Registry, service: Service = Service.CPANEL) -> Gate:
    """The one admission path every dialect shares, made of the container's guards and services; WHM's knows WHM
    tokens (and, in HTTP Basic, root's and resellers' passwords), the account API's cPanel tokens only."""
    parts = GateParts(
        login_guard=container.login_guard,
        authenticator=container.whm_authenticator if service == Service.WHM else container.authenticator,
        tokens=container.token_cache,
        rate_limiter=container.rate_limiter,
        default_rate_limit=container.settings.token_rate_limit,
        usage=container.usage,
        audit=container.audit_writer,
        begin=container.uow,
        services=container,
        service=service,
        passwords=service == Service.WHM,
        reads_wait=not is_sqlite(container.engine),
    )
    return Gate(registry, parts)


def site(container: Container, service: Service = Service.CPANEL) -> Site:
    """What a web interface is made of: the account's pages, or WHM's."""
    return Site(
        services=container,
        begin=container.uow,
        keys=BrowserKeys(container.keys),
        login_guard=container.login_guard,
        login_throttle=container.login_throttle,
        session_policy=container.session_policy,
        staging=container.staging,
        service=service,
    )


def _learn_keys(container: Container) -> None:
    try:
        container.token_cache.load()
    except OperationalError:
        log.warning("the token keys could not be read at start (the database is unreachable); a call will read them")


def _recover(container: Container) -> None:
    create_zones = partial(create_missing, container.uow, container.zone_template, container.clock)
    recover(
        container.backup_runner, container.staging, container.settings.homes_dir, container.mail_publisher, create_zones
    )
    container.forget_orphan_certificates()


def _background(container: Container) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The work of a server process besides requests, run once however many interfaces it serves."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_recover, container)
        await run_in_threadpool(container.hasher.warm)
        # Learn which token keys exist while the server starts answering, not during the first call that needs
        # them (a million keys take about a second and a half); a call meanwhile waits for it or reads the database.
        threading.Thread(target=_learn_keys, args=(container,), name="known token keys", daemon=True).start()
        settings = container.settings
        flush = partial(container.usage.flush, container.uow)
        flusher = Periodic("writing token usage", settings.last_used_flush_seconds, flush, final=True)
        reminder = Periodic(
            "sending expiry notices", settings.expiry_check_seconds, lambda: _send_expiry_notices(container)
        )
        tidier = Periodic("tidying cache generations", 1.0, changes_for(container.engine).tidy)
        interval = settings.autossl_interval_seconds
        autossl = Periodic(
            "AutoSSL", interval, partial(_run_autossl, container), first=min(interval, AUTOSSL_FIRST_SECONDS)
        )
        flusher.start()
        reminder.start()
        tidier.start()
        autossl.start()
        try:
            yield
        finally:
            await run_in_threadpool(autossl.stop)
            await run_in_threadpool(tidier.stop)
            await run_in_threadpool(reminder.stop)
            await run_in_threadpool(container.jobs.stop)
            await run_in_threadpool(flusher.stop)

    return lifespan


def _health(app: FastAPI, container: Container, openapi: dict[str, object]) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(openapi)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/healthz/db", include_in_schema=False)
    async def health_database() -> Response:
        try:
            await run_in_threadpool(_ping, container)
        except Exception:
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})


def create_app(container: Container, registry: Registry | None = None, *, background: bool = True) -> FastAPI:
    """The account's interface (port 2083): UAPI, cPanel API 2, leak reports and the account's pages."""
    registry = registry or default_registry()
    openapi = build_openapi(registry)
    shared_gate = gate(container, registry)
    endpoint = Endpoint(uapi.UapiDialect(), shared_gate, container.limits, container.staging)
    api2_endpoint = Endpoint(api2.Api2Dialect(), shared_gate, container.limits, container.staging)
    reports = LeakReports(
        container.rate_limiter, container.settings.leak_report_rate_limit, container.uow, container.leaks
    )
    lifespan = _background(container) if background else None
    app = FastAPI(
        title="hostpanel", version=__version__, openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.router.routes.extend(
        [
            *(Route(path, endpoint.handle, methods=["GET", "POST"]) for path in uapi.ROUTES),
            *(Route(path, api2_endpoint.handle, methods=["GET", "POST"]) for path in api2.ROUTES),
            Route(leaks.PATH, reports.handle, methods=["POST"]),
            *web_routes(site(container)),
        ]
    )
    _health(app, container, openapi)
    app.add_middleware(TokenPathGuard)
    app.add_middleware(SecurityHeaders)
    return app


def create_whm_app(container: Container, registry: Registry | None = None, *, background: bool = True) -> FastAPI:
    """WHM's interface (port 2087): WHM API 1 for root and resellers, and the administration pages."""
    registry = registry or default_registry()
    endpoint = Endpoint(whm.WhmDialect(), gate(container, registry, Service.WHM), container.limits, container.staging)
    lifespan = _background(container) if background else None
    app = FastAPI(
        title="hostpanel WHM", version=__version__, openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.router.routes.extend(
        [
            *(Route(path, endpoint.handle, methods=["GET", "POST"]) for path in whm.ROUTES),
            *whm_routes(site(container, Service.WHM)),
        ]
    )
    _health(app, container, build_whm_openapi(registry))
    app.add_middleware(TokenPathGuard, api_path=whm.API_PATH)
    app.add_middleware(SecurityHeaders)
    return app


class ByPort:
    """One server process, two interfaces: a request that came in on the WHM port goes to WHM's, any other to the
    account's (which also runs the process's background work, once)."""

    def __init__(self, account: ASGIApp, whm_app: ASGIApp, whm_port: int) -> None:
        self._account = account
        self._whm = whm_app
        self._whm_port = whm_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") or (None, None)
        if scope["type"] != "lifespan" and server[1] == self._whm_port:
            await self._whm(scope, receive, send)
            return
        await self._account(scope, receive, send)


def create_server_app(container: Container, registry: Registry | None = None) -> ByPort:
    registry = registry or default_registry()
    account = create_app(container, registry)
    return ByPort(account, create_whm_app(container, registry, background=False), container.settings.whm_port)


def _ping(container: Container) -> None:
    with container.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def create_app_from_environment() -> ByPort:
    """The factory `hostpanel serve` hands to uvicorn, so each worker process builds its own container."""
    container = Container(Settings())
    container.check_ready()
    return create_server_app(container)


class LocalCalls:
    """Calls made on the server itself, as cPanel's `whmapi1` and `uapi` commands make them: root (or an account)
    calls a function through the same registry, gate and dialect as over HTTP, and gets the same JSON."""

    def __init__(self, container: Container, registry: Registry | None = None) -> None:
        registry = registry or default_registry()
        self._container = container
        self._whm = Endpoint(
            whm.WhmDialect(), gate(container, registry, Service.WHM), container.limits, container.staging
        )
        self._uapi = Endpoint(uapi.UapiDialect(), gate(container, registry), container.limits, container.staging)

    def whmapi1(self, function: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """As root, which `hostpanel init` made."""
        with self._container.uow(write=False) as uow:
            root = self._container.accounts(uow).root()
        return _body(self._whm.call_as(Principal.root(root), function, pairs))

    def uapi(self, username: str, module: str, function: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """As the account itself (its features apply, as to its own password session)."""
        with self._container.uow(write=False) as uow:
            account = self._container.accounts(uow).get(username)
        return _body(self._uapi.call_as(Principal.admin(account), function, pairs, module))


def _body(response: Response) -> dict[str, Any]:
    body = getattr(response, "body", None)
    if body is None:  # a download streams a file
        raise HostpanelError("This function answers with a file: call it over HTTP to download it.")
    loaded = json.loads(bytes(body))
    assert isinstance(loaded, dict)
    return loaded
