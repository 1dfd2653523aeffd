"""UAPI `SSL`: `install_ssl`, `list_certs`, `installed_hosts` and `delete_ssl`, with cPanel's parameters.

A certificate is checked before anything is stored (key pair, names, chain, dates); its key is sealed in the
database and written only as the 0600 file nginx reads; it is served before the call returns. No function returns a
private key. Gated by the `ssl:` scope and the account's `sslinstall` feature.

Names and parameters as cPanel's UAPI documentation gives them (api.docs.cpanel.net, "SSL::install_ssl": `domain`,
`cert`, `key`, `cabundle`); the fields of the answers are cPanel's where this server has the fact, and left out where
it has not (IP addresses, Apache vhost details).
"""

from __future__ import annotations

from typing import Any

from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param
from hostpanel.modules.ssl.shapes import PARAM_DOMAIN, cert_id, described

module = Module("SSL", ScopeModule.SSL, "Certificates of the account's sites.")


@module.function(
    "install_ssl",
    Access.WRITE,
    "Install a certificate on a site: checked (key, names, chain, dates), its key sealed, served on return.",
    params=(
        Param("domain", PARAM_DOMAIN, True),
        Param("cert", "The certificate (PEM); intermediates may follow it.", True),
        Param("key", "Its private key (PEM, unencrypted).", True),
        Param("cabundle", "The issuer's chain (PEM), unless the certificate signs itself."),
    ),
)
def install_ssl(call: Call) -> dict[str, Any]:
    args = call.args
    installed = call.services.certificates.install(
        args.require("domain"), args.require("cert"), args.require("key"), args.get("cabundle") or ""
    )
    message = f"The SSL certificate is now installed onto the domain “{installed.domain}”."
    return {
        "action": "install",
        "cert_id": cert_id(installed),
        "domain": installed.domain,
        "servername": installed.domain,
        "user": call.principal.account.username,
        "working_domains": [installed.domain],
        "warning_domains": [],
        "extra_certificate_domains": [n for n in installed.names if n != installed.domain],
        "message": message,
        "statusmsg": message,
    }


@module.function("list_certs", Access.READ, "The installed certificates (public fields only).", returns_list=True)
def list_certs(call: Call) -> list[dict[str, Any]]:
    return [described(c) for c in call.services.certificates.certificates()]


@module.function("installed_hosts", Access.READ, "The sites that serve a certificate, each with it.", returns_list=True)
def installed_hosts(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "servername": c.domain,
            "domains": [c.domain],
            "fqdns": [c.domain],
            "certificate": described(c),
            "needs_sni": 1,
            "verify_error": "",
        }
        for c in call.services.certificates.certificates()
    ]


@module.function(
    "delete_ssl",
    Access.WRITE,
    "Remove a site's certificate (the site stops answering HTTPS).",
    params=(Param("domain", PARAM_DOMAIN, True),),
)
def delete_ssl(call: Call) -> None:
    call.services.certificates.delete(call.args.require("domain"))
