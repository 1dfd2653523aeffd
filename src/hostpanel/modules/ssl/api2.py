"""cPanel API 2 `SSL::installssl`, as certbot's cPanel installer (certbot-dns-cpanel's `deploy_cert`) calls it:
`domain`, `crt`, `key`, `cabundle` in a GET query; success is `data[0].result == 1`, a failure's reason
`data[0].output`."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.errors import HostpanelError, PermissionDenied
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call, FailureWithData
from hostpanel.functions.registry import API2, Module, Param
from hostpanel.modules.ssl.shapes import PARAM_DOMAIN

module = Module("SSL", ScopeModule.SSL, "Certificates of the account's sites (cPanel API 2).", api=API2)


def _result(ok: int, message: str, domain: str) -> list[dict[str, Any]]:
    return [{"result": ok, "status": ok, "output": message, "statusmsg": message, "domain": domain}]


@module.function(
    "installssl",
    Access.WRITE,
    "Install a certificate on a site (as UAPI `SSL::install_ssl`).",
    params=(
        Param("domain", PARAM_DOMAIN, True),
        Param("crt", "The certificate (PEM).", True),
        Param("key", "Its private key (PEM, unencrypted).", True),
        Param("cabundle", "The issuer's chain (PEM)."),
    ),
)
def installssl(call: Call) -> list[dict[str, Any]]:
    args = call.args
    domain = args.get("domain") or ""
    try:
        installed = call.services.certificates.install(
            args.require("domain"), args.require("crt"), args.require("key"), args.get("cabundle") or ""
        )
    except PermissionDenied:
        raise
    except HostpanelError as error:
        # Failed and nothing stored: the message in API 2's error and where the installer reads it.
        raise FailureWithData(error.message, _result(0, error.message, domain)) from None
    return _result(1, f"The SSL certificate is now installed onto the domain “{installed.domain}”.", installed.domain)
