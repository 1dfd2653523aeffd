"""`hostpanel init`, `hostpanel serve` and `hostpanel demo`."""

from __future__ import annotations

import logging
import secrets
import shlex
import socket
import sys
from typing import Any

import typer
import uvicorn

from hostpanel.cli.common import CliError, console
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.errors import NotFound
from hostpanel.keys import create_key_file, load_key_file
from hostpanel.nameserver.pdns import NameserverFailed, PowerDns
from hostpanel.nameserver.probe import DnsProbe
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade
from hostpanel.tls import ensure_self_signed

log = logging.getLogger("hostpanel.nameserver")
DEMO_USER = "demo"
DEMO_DOMAIN = "demo.test"
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "hostpanel": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("demo")(demo)


def init() -> None:
    """Create the data directory, the server key, a self-signed TLS certificate, and apply migrations."""
    settings = Settings()
    _initialise(settings)
    console.print(f"Ready: data in {settings.home_dir}, database {_describe(settings)}.")


def _initialise(settings: Settings) -> None:
    settings.home_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if create_key_file(settings.key_path):
        console.print(f"Created the server key {settings.key_path} (mode 0600; back it up: tokens depend on it).")
    load_key_file(settings.key_path)  # an existing key must be usable too (readable, private, well-formed)
    if ensure_self_signed(settings.tls_cert_path, settings.tls_key_path):
        console.print(f"Created a self-signed TLS certificate {settings.tls_cert_path}.")
    engine = make_engine(settings.database_url_or_default)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _describe(settings: Settings) -> str:
    url = settings.database_url_or_default
    return url if url.startswith("sqlite") else url.split("@")[-1]


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(2083, "--port", min=1, max=65535, help="Port (cPanel's HTTPS port by default)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
    http: bool = typer.Option(False, "--http", help="Speak plain HTTP instead of HTTPS."),
) -> None:
    """Run the panel: the API, its OpenAPI document and the web pages."""
    settings = Settings()
    probe = Container(settings)
    try:
        probe.check_ready()
    finally:
        probe.close()
    _check_port_free(host, port)
    tls: dict[str, str] = {}
    if not http:
        cert, key = settings.tls_cert_path, settings.tls_key_path
        if not cert.exists() or not key.exists():
            raise CliError(f"No TLS certificate at {cert}: run `hostpanel init`, or pass --http.")
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    scheme = "http" if http else "https"
    nameserver = _start_nameserver(settings)
    console.print(f"hostpanel listening on {scheme}://{host}:{port}/ ({workers} worker(s), {_describe(settings)})")
    try:
        _serve_http(settings, host, port, workers, tls)
    finally:
        if nameserver is not None:
            nameserver.stop()


def _serve_http(settings: Settings, host: str, port: int, workers: int, tls: dict[str, str]) -> None:
    uvicorn.run(
        "hostpanel.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=LOG_CONFIG,
        server_header=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=10,
        **tls,  # type: ignore[arg-type]
    )


def _start_nameserver(settings: Settings) -> PowerDns | None:
    """The nameserver this server manages (HOSTPANEL_DNS_MANAGED): configured, started and watched; or a check that
    the one named by HOSTPANEL_DNS_LISTEN answers. A nameserver that cannot start does not keep the panel from
    serving: zone edits are refused (nothing changed) until it answers, and a managed one is retried meanwhile."""
    address = DnsProbe(settings.dns_address).address
    if not settings.dns_managed:
        state = "answers" if DnsProbe(settings.dns_address).answers() else "does NOT answer (zone edits are refused)"
        console.print(f"The nameserver at {address} (not managed by hostpanel) {state}.")
        return None
    nameserver = PowerDns(settings)
    try:
        nameserver.start()
    except NameserverFailed as error:
        logging.basicConfig()
        log.error("the nameserver did not start (zone edits are refused until it does; retrying): %s", error)
    else:
        console.print(f"Nameserver (PowerDNS) answering on {address} (UDP and TCP); its log: {nameserver.log_path}")
    nameserver.watch()
    return nameserver


def _check_port_free(host: str, port: int) -> None:
    """Say so in one line when the address is taken, before anything is printed or changed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CliError(f"cannot listen on {host}:{port}: {error.strerror} (pass --port N)") from None


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(2083, "--port", min=1, max=65535, help="Port."),
    http: bool = typer.Option(False, "--http", help="Speak plain HTTP instead of HTTPS."),
) -> None:
    """Set up the embedded default, (re)create the demo account with a fresh password, print how to use it, serve."""
    settings = Settings()
    _check_port_free(host, port)
    _initialise(settings)
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    built = Container(settings)
    try:
        with built.uow() as uow:
            accounts = built.accounts(uow)
            try:
                accounts.get(DEMO_USER)
                accounts.set_password(DEMO_USER, password)
            except NotFound:
                accounts.create(DEMO_USER, password, f"{DEMO_USER}@{DEMO_DOMAIN}", (DEMO_DOMAIN,))
            uow.commit()
    finally:
        built.close()
    url = f"{'http' if http else 'https'}://{host}:{port}"
    insecure = "" if http else " -k"
    command = f"HOSTPANEL_HOME={shlex.quote(str(settings.home_dir))} {shlex.quote(sys.argv[0])}"
    # Plain print: a banner people copy from must not be wrapped or styled.
    print(
        f"""
hostpanel is starting at {url}/{"" if http else "  (self-signed certificate: curl needs -k)"}
  Demo account:  {DEMO_USER} / {password}   (its password is new on every start)
  Make a token:  {command} token create {DEMO_USER} first-token
  Call the API:  curl{insecure} -H "Authorization: cpanel {DEMO_USER}:<token>" {url}/execute/Tokens/list
  Ask its DNS:   {_dig(settings, DEMO_DOMAIN)}
""",
        flush=True,
    )
    serve(host=host, port=port, workers=1, http=http)


def _dig(settings: Settings, zone: str) -> str:
    host, port = settings.dns_address
    return f"dig @{host} -p {port} {zone} AXFR    (the whole zone; or: dig @{host} -p {port} www.{zone} A +norec)"
