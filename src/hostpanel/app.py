"""The ASGI application: the UAPI dispatcher, the OpenAPI document, health, and the background usage flush."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
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

log = logging.getLogger(__name__)

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hostpanel</title></head>
<body><h1>hostpanel</h1>
<p>The API answers at <code>/execute/Module/function</code> with <code>Authorization: cpanel USER:TOKEN</code>.</p>
<p>Its description: <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


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
        await run_in_threadpool(container.recover)
        flusher = UsageFlusher(container)
        flusher.start()
        try:
            yield
        finally:
            await run_in_threadpool(container.jobs.stop)
            await run_in_threadpool(flusher.stop)

    app = FastAPI(
        title="hostpanel", version=__version__, openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.container = container
    app.router.routes.extend(
        [
            Route("/execute/{module}/{function}", dispatcher.handle, methods=["GET", "POST"]),
            Route("/cpsess{session:int}/execute/{module}/{function}", dispatcher.handle, methods=["GET", "POST"]),
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

    @app.get("/", include_in_schema=False)
    async def landing(_request: Request) -> HTMLResponse:
        return HTMLResponse(LANDING)

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
