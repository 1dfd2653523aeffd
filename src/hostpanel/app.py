"""The ASGI application: the UAPI dispatcher, the web interface, the OpenAPI document, health, and the background
usage flush."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hostpanel import __version__
from hostpanel.api.auth import TokenPathGuard
from hostpanel.api.middleware import SecurityHeaders
from hostpanel.api.modules import default_registry
from hostpanel.api.openapi import build_openapi
from hostpanel.api.uapi.dispatcher import UapiDispatcher
from hostpanel.api.uapi.registry import Registry
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.web.routes import web_routes

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


class UsageFlusher:
    """Writes batched token use every few seconds on a daemon thread, and once more at shutdown."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._flush()

    def _run(self) -> None:
        while not self._stop.wait(self._container.settings.last_used_flush_seconds):
            self._flush()

    def _flush(self) -> None:
        try:
            self._container.flush_usage()
        except Exception:
            log.exception("writing token usage failed; it will be retried")


def create_app(container: Container, registry: Registry | None = None) -> FastAPI:
    registry = registry or default_registry()
    openapi = build_openapi(registry)
    dispatcher = UapiDispatcher(container, registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        flusher = UsageFlusher(container)
        flusher.start()
        try:
            yield
        finally:
            await run_in_threadpool(flusher.stop)

    app = FastAPI(
        title="hostpanel", version=__version__, openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.container = container
    app.router.routes.extend(
        [
            Route("/execute/{module}/{function}", dispatcher.handle, methods=["GET", "POST"]),
            Route("/cpsess{session:digits}/execute/{module}/{function}", dispatcher.handle, methods=["GET", "POST"]),
            *web_routes(container),
        ]
    )

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

    app.add_middleware(TokenPathGuard)
    app.add_middleware(SecurityHeaders)
    return app


def _ping(container: Container) -> None:
    with container.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def create_app_from_environment() -> FastAPI:
    """The factory `hostpanel serve` hands to uvicorn, so each worker process builds its own container."""
    container = Container(Settings())
    container.check_ready()
    return create_app(container)
