"""`hostpanel init`, `hostpanel serve` and `hostpanel demo`."""

from __future__ import annotations

import copy
import logging
import os
import secrets
import shlex
import socket
import sys
from typing import Any

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from hostpanel.cli.common import CliError, console, read_password
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.errors import NotFound
from hostpanel.domain.sites.certificates import SitesUnavailable
from hostpanel.keys import create_key_file, load_key_file
from hostpanel.nameserver.pdns import NameserverFailed, PowerDns
from hostpanel.nameserver.probe import DnsProbe
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade
from hostpanel.tls import ensure_self_signed
from hostpanel.webserver.nginx import NginxProcess, NginxSites, setup_from

log = logging.getLogger("hostpanel.nameserver")
DEFAULT_WHM_PORT = 2087
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


def init(
    root_password_stdin: bool = typer.Option(
        False, "--root-password-stdin", help="Set root's (WHM's administrator's) password from standard input."
    ),
) -> None:
    """Create the data directory, the server key, a self-signed TLS certificate, apply migrations, and make root (the
    WHM administrator) with a password printed once, unless one is given."""
    settings = Settings()
    _initialise(settings)
    given = read_password(True, "root password") if root_password_stdin else None
    made = _ensure_root(settings, given)
    if made is not None:
        # Plain print, as the demo's login: people copy it.
        print(f"Created root, WHM's administrator, with the password: {made}  (shown this once)", flush=True)
    elif given is not None:
        console.print("Set root's password.")
    console.print(f"Ready: data in {settings.home_dir}, database {_describe(settings)}.")


def _ensure_root(settings: Settings, password: str | None) -> str | None:
    """Make root if it does not exist (with `password`, or a new one, which is returned to be shown); with a
    `password` and an existing root, set it."""
    built = Container(settings)
    try:
        with built.uow() as uow:
            accounts = built.accounts(uow)
            new = password or _new_password()
            made = accounts.ensure_root(new)
            if not made and password is not None:
                accounts.set_root_password(password)
            uow.commit()
    finally:
        built.close()
    return new if made and password is None else None


def _new_password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


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
    port: int = typer.Option(2083, "--port", min=1, max=65535, help="The account port (cPanel's, by default)."),
    whm_port: int | None = typer.Option(
        None,
        "--whm-port",
        min=1,
        max=65535,
        help=f"The WHM port (default {DEFAULT_WHM_PORT}, WHM's; when another server already holds that one, as a "
        "second node over the same data directory does, this one serves the account port alone).",
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (each serves both ports)."),
    http: bool = typer.Option(False, "--http", help="Speak plain HTTP instead of HTTPS (on both ports)."),
) -> None:
    """Run the panel: the account's API and pages on one port, WHM's API and pages on the other."""
    settings = Settings()
    probe = Container(settings)
    try:
        probe.check_ready()
    finally:
        probe.close()
    if whm_port == port:
        raise CliError(f"--port and --whm-port are both {port}: give WHM a port of its own.")
    _check_port_free(host, port)
    serve_whm = True
    if whm_port is not None:
        _check_port_free(host, whm_port)
    else:
        whm_port = DEFAULT_WHM_PORT
        serve_whm = whm_port != port and _port_free(host, whm_port)
    tls: dict[str, str] = {}
    if not http:
        cert, key = settings.tls_cert_path, settings.tls_key_path
        if not cert.exists() or not key.exists():
            raise CliError(f"No TLS certificate at {cert}: run `hostpanel init`, or pass --http.")
        tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    scheme = "http" if http else "https"
    # Every worker builds its own container from the environment: it learns the ports (for single sign-on links and
    # to tell WHM's requests from the account's) from there.
    os.environ.update(
        {"HOSTPANEL_PORT": str(port), "HOSTPANEL_WHM_PORT": str(whm_port), "HOSTPANEL_PLAIN_HTTP": "1" if http else "0"}
    )
    nameserver = _start_nameserver(settings)
    webserver = _start_webserver(settings)
    whm = (
        f"WHM on {scheme}://{host}:{whm_port}/"
        if serve_whm
        else f"not WHM ({host}:{whm_port} is taken; pass --whm-port N to serve it)"
    )
    console.print(
        f"hostpanel listening on {scheme}://{host}:{port}/ and {whm} ({workers} worker(s), {_describe(settings)})"
    )
    try:
        _serve_http(settings, host, (port, whm_port if serve_whm else None), workers, tls)
    finally:
        if webserver is not None:
            webserver.stop()
        if nameserver is not None:
            nameserver.stop()


def _serve_http(
    settings: Settings, host: str, ports: tuple[int, int | None], workers: int, tls: dict[str, str]
) -> None:
    port, whm_port = ports
    config = uvicorn.Config(
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
        ssl_certfile=tls.get("ssl_certfile"),
        ssl_keyfile=tls.get("ssl_keyfile"),
    )
    # One listening socket per port, both served by every worker; the app tells them apart by the local port.
    sockets = [config.bind_socket()]
    if whm_port is not None:
        sockets.append(_with_port(config, whm_port).bind_socket())
    if workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


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


def _start_webserver(settings: Settings) -> NginxProcess | None:
    """The nginx serving the sites (HOSTPANEL_SITES_MANAGED): its configuration published from the database, started,
    watched, and refreshed with what other processes commit. One that cannot start does not keep the panel from
    serving (site changes are refused until it runs; it is retried meanwhile); an unmanaged one is only published
    to (its configuration file, for whoever runs nginx on it)."""
    built = Container(settings)
    sites = NginxSites(setup_from(settings), built.read)
    if not settings.sites_managed:
        console.print(f"Sites: nginx is not managed by hostpanel; its configuration is {sites.config_path}.")
        return None
    if sites.running() is not None:  # a second server over the same data directory: the first one's nginx serves
        console.print(f"Sites: nginx already runs for {settings.home_dir} (another server's); it is published to.")
        return None
    webserver = NginxProcess(sites)
    try:
        webserver.start()
    except SitesUnavailable as error:
        logging.basicConfig()
        log.error("nginx did not start (site changes are refused until it does; retrying): %s", error.message)
    else:
        console.print(
            f"Sites (nginx) on http://{sites.setup.http}/ and https://{sites.setup.https}/; its log: {sites.log_path}"
        )
    webserver.watch()
    return webserver


def _with_port(config: uvicorn.Config, port: int) -> uvicorn.Config:
    """The same configuration on another port (only to bind its socket)."""
    other = copy.copy(config)
    other.port = port
    return other


def _check_port_free(host: str, port: int) -> None:
    """Say so in one line when the address is taken, before anything is printed or changed."""
    try:
        _bind_probe(host, port)
    except OSError as error:
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror} (pass --port N)") from None


def _port_free(host: str, port: int) -> bool:
    try:
        _bind_probe(host, port)
    except OSError:
        return False
    return True


def _bind_probe(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(2083, "--port", min=1, max=65535, help="The account port."),
    whm_port: int = typer.Option(2087, "--whm-port", min=1, max=65535, help="The WHM port."),
    http: bool = typer.Option(False, "--http", help="Speak plain HTTP instead of HTTPS."),
) -> None:
    """Set up the embedded default, (re)create the demo account and root with fresh passwords, print how to use
    them, serve."""
    settings = Settings()
    _check_port_free(host, port)
    _check_port_free(host, whm_port)
    _initialise(settings)
    password = _new_password()
    root_password = _new_password()
    _ensure_root(settings, root_password)  # made with it, or (existing) given it
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
    _demo_page(settings)
    url = f"{'http' if http else 'https'}://{host}:{port}"
    whm_url = f"{'http' if http else 'https'}://{host}:{whm_port}"
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
  Its website:   {_site_url(settings, DEMO_DOMAIN)}   (nginx, from ~/public_html)

WHM (the server's administration) is at {whm_url}/
  Administrator: root / {root_password}   (also new on every start)
  WHM token:     {command} whmapi1 api_token_create token_name=billing
  Call WHM:      curl{insecure} -H "Authorization: whm root:<token>" "{whm_url}/json-api/listaccts?api.version=1"
""",
        flush=True,
    )
    serve(host=host, port=port, whm_port=whm_port, workers=1, http=http)


def _site_url(settings: Settings, domain: str) -> str:
    """How to reach a site before its name resolves: nginx picks the site by the Host header."""
    host, _, port = settings.http_listen.rpartition(":")
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a wildcard is reached on the loopback
    return f"curl -H 'Host: {domain}' http://{shown}:{port}/"


def _demo_page(settings: Settings) -> None:
    """A first page for the demo site (an existing one is kept)."""
    page = settings.homes_dir / DEMO_USER / "public_html" / "index.html"
    if page.parent.is_dir() and not page.exists():
        page.write_text(f"<!doctype html><title>{DEMO_DOMAIN}</title><h1>{DEMO_DOMAIN}</h1><p>Served by nginx.</p>\n")


def _dig(settings: Settings, zone: str) -> str:
    host, port = settings.dns_address
    return f"dig @{host} -p {port} {zone} AXFR    (the whole zone; or: dig @{host} -p {port} www.{zone} A +norec)"
