"""What WHM reports about the server itself: its host name, shared address, nameservers and version."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "11.120.0.16"  # the cPanel version whose API this server speaks (clients compare it)


@dataclass(frozen=True)
class ServerInfo:
    """The server as WHM describes it to clients (createacct's `ip`, gethostname, the nameservers)."""

    hostname: str
    shared_ip: str
    nameservers: tuple[str, ...] = ()
    version: str = VERSION
    # Where the interfaces answer, for single sign-on links: the account port, WHM's, and the scheme of both.
    port: int = 2083
    whm_port: int = 2087
    scheme: str = "https"
    sso_host: str | None = None
