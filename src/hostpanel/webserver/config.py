"""nginx's configuration, written whole from the sites the database holds (pure: text in, text out).

One `server` per site on the HTTP address, and one on the HTTPS address for a site with a certificate; a default
server on each address catches every other Host (and the bare address) and serves no account's files: 404 over
HTTP, a refused handshake over HTTPS (`ssl_reject_handshake`), so no site's certificate is shown for another name.

Confinement: `disable_symlinks on from=<home>` makes nginx open every path component below the account's home with
O_NOFOLLOW (`openat`), so a link anywhere under the home (the document root itself included) is never followed,
whoever owns it. `if_not_owner` would not do: every home belongs to the panel's one system user, the owner of any
link a user can make there. URIs are normalised by nginx before they are mapped (`..` never climbs above the root).

The default HTTP server answers `/.well-known/hostpanel-generation` with the configuration's generation: the
publisher knows a new configuration is served when it reads the new number there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hostpanel.domain.sites.certificates import CertificateSource, SitesLayout
from hostpanel.domain.sites.model import ServedSite

GENERATION_PATH = "/.well-known/hostpanel-generation"
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+@~:=,-]+")


class UnsafePath(ValueError):
    """A path nginx's configuration could not hold verbatim."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ServerSetup:
    """What the configuration needs besides the sites."""

    http: Listen
    https: Listen
    layout: SitesLayout
    homes: Path
    user: str | None  # `user` directive: only when nginx starts as root (its workers then run as this user)


def _path(path: Path) -> str:
    text = str(path)
    if not _SAFE_PATH.fullmatch(text):
        raise UnsafePath(f"nginx cannot be given the path {text!r}: use letters, digits and . _ / + @ ~ : = , - only")
    return text


def render(setup: ServerSetup, sites: Sequence[ServedSite], certificates: CertificateSource, generation: int) -> str:
    """The whole of nginx.conf."""
    root = setup.layout.root
    lines = [
        "# Written by hostpanel from its database; changes here are overwritten.",
        *([f"user {setup.user};"] if setup.user else []),
        "daemon off;",
        "master_process on;",
        "worker_processes auto;",
        f"pid {_path(root / 'nginx.pid')};",
        f"error_log {_path(root / 'error.log')} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    tcp_nopush on;",
        "    server_tokens off;",
        "    access_log off;",
        "    keepalive_timeout 65;",
        "    server_names_hash_bucket_size 128;",
        "    server_names_hash_max_size 65536;",
        *[
            f"    {name}_temp_path {_path(root / 'tmp' / name)};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ],
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    ssl_session_cache shared:hostpanel:10m;",
        *_defaults(setup, generation),
    ]
    for served in sites:
        if served.site.docroot:  # a parked domain whose target is gone serves nothing
            lines += _site(setup, served, certificates)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _defaults(setup: ServerSetup, generation: int) -> list[str]:
    return [
        "    server {",
        f"        listen {setup.http} default_server;",
        "        server_name _;",
        f'        location = {GENERATION_PATH} {{ default_type text/plain; return 200 "{generation}"; }}',
        "        location / { return 404; }",
        "    }",
        "    server {",
        f"        listen {setup.https} ssl default_server;",
        "        server_name _;",
        "        ssl_reject_handshake on;",
        "    }",
    ]


def _site(setup: ServerSetup, served: ServedSite, certificates: CertificateSource) -> list[str]:
    home = setup.homes / served.username
    site = served.site
    body = [
        f"        server_name {' '.join(site.server_names)};",
        f"        root {_path(home / site.docroot)};",
        f"        disable_symlinks on from={_path(home)};",
        "        index index.html index.htm;",
        "        location ^~ /.well-known/acme-challenge/ {",
        f"            alias {_path(setup.layout.challenges)}/;",
        "            default_type text/plain;",
        "            disable_symlinks on;",
        "        }",
    ]
    lines = ["    server {", f"        listen {setup.http};", *body, "    }"]
    certificate = certificates.served_certificate(site.domain)
    if certificate is not None:
        lines += [
            "    server {",
            f"        listen {setup.https} ssl;",
            f"        ssl_certificate {_path(certificate.chain)};",
            f"        ssl_certificate_key {_path(certificate.key)};",
            *body,
            "    }",
        ]
    return lines
