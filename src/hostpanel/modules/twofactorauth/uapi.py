"""UAPI `TwoFactorAuth`, with cPanel's parameters, output fields and messages.

As in cPanel, `generate_user_configuration` saves nothing: the caller shows the secret (or its QR code), then sends
it back with a current code to `set_user_configuration`. Ours also returns the ten recovery codes from that call,
the only time they exist in clear. cPanel's team users do not exist here, so `get_team_user_configuration` is absent.
"""

from __future__ import annotations

from typing import Any

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module(
    "TwoFactorAuth", ScopeModule.TWOFACTORAUTH, "Set up, review and remove two-factor authentication (TOTP)."
)


@module.function(
    "generate_user_configuration",
    Access.WRITE,
    "A new TOTP secret and its otpauth:// URI for an authenticator app; nothing is saved yet.",
)
def generate_user_configuration(call: Call) -> dict[str, str]:
    enrolment = call.services.twofactor.generate(call.principal.account)
    return {"secret": enrolment.secret, "otpauth_str": enrolment.uri}


@module.function(
    "set_user_configuration",
    Access.WRITE,
    "Turn two-factor authentication on with `secret`, once `tfa_token` (a current code) proves the app has it.",
    params=(
        Param("secret", "The base32 secret from generate_user_configuration.", True),
        Param("tfa_token", "The current 6-digit code the authenticator app shows for that secret.", True),
    ),
)
def set_user_configuration(call: Call) -> dict[str, Any]:
    secret, code = call.args.require("secret"), call.args.require("tfa_token")
    try:
        codes = call.services.twofactor.enable(call.principal, secret, code)
    except InvalidInput as error:
        raise InvalidInput(error.field, f"Failed to set user configuration: {error.message}") from None
    return {"tfa_configured": 1, "recovery_codes": codes}


@module.function(
    "get_user_configuration",
    Access.READ,
    "Whether two-factor authentication is on, and the issuer name the authenticator app shows.",
    feature=None,  # as cPanel: an account whose feature was switched off may still see its state
)
def get_user_configuration(call: Call) -> dict[str, Any]:
    service = call.services.twofactor
    if not service.is_enabled(call.principal.account):
        return {"is_enabled": 0}
    return {"is_enabled": 1, "issuer": service.issuer}


@module.function("remove_user_configuration", Access.WRITE, "Turn two-factor authentication off.")
def remove_user_configuration(call: Call) -> dict[str, int]:
    call.services.twofactor.disable(call.principal)
    return {"tfa_removed": 1}
