"""UAPI `TwoFactorAuth`: cPanel's functions, fields and messages; scopes and the feature apply as everywhere."""

from __future__ import annotations

import pyotp
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import FakeClock, auth, make_token, uapi


def test_generate_then_set_then_get_then_remove(
    client: TestClient, container: Container, alice_token: IssuedToken, clock: FakeClock
) -> None:
    headers = auth("alice", alice_token.secret)
    assert uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=headers), 1)["data"] == {
        "is_enabled": 0
    }
    generated = uapi(client.get("/execute/TwoFactorAuth/generate_user_configuration", headers=headers), 1)["data"]
    secret = generated["secret"]
    assert generated["otpauth_str"] == f"otpauth://totp/hostpanel:alice?secret={secret}&issuer=hostpanel"
    assert (
        uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=headers), 1)["data"]["is_enabled"] == 0
    )  # generating saves nothing
    wrong = uapi(
        client.post(
            "/execute/TwoFactorAuth/set_user_configuration",
            data={"secret": secret, "tfa_token": "000000"},
            headers=headers,
        ),
        0,
    )
    assert wrong["errors"] == ["Failed to set user configuration: The security code is invalid."]
    code = pyotp.TOTP(secret).at(clock.now())
    done = uapi(
        client.post(
            "/execute/TwoFactorAuth/set_user_configuration", data={"secret": secret, "tfa_token": code}, headers=headers
        ),
        1,
    )["data"]
    assert done["tfa_configured"] == 1 and len(done["recovery_codes"]) == 10
    assert uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=headers), 1)["data"] == {
        "is_enabled": 1,
        "issuer": "hostpanel",
    }
    removed = uapi(client.post("/execute/TwoFactorAuth/remove_user_configuration", headers=headers), 1)
    assert removed["data"] == {"tfa_removed": 1}
    assert uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=headers), 1)["data"] == {
        "is_enabled": 0
    }


def test_secrets_shorter_than_128_bits_are_refused(client: TestClient, alice_token: IssuedToken) -> None:
    data = {"secret": "JBSWY3DPEHPK3PXP", "tfa_token": "123456"}  # cPanel's 80-bit length
    headers = auth("alice", alice_token.secret)
    body = uapi(client.post("/execute/TwoFactorAuth/set_user_configuration", data=data, headers=headers), 0)
    assert body["errors"][0].startswith("Failed to set user configuration: The secret must be 26 to 64 characters")


def test_scopes_and_the_feature_gate_it(client: TestClient, container: Container, alice: Account) -> None:
    reader = make_token(container, alice, "reader", Permissions.of([Scope(ScopeModule.TWOFACTORAUTH, Access.READ)]))
    headers = auth("alice", reader.secret)
    assert uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=headers), 1)
    denied = uapi(client.post("/execute/TwoFactorAuth/remove_user_configuration", headers=headers), 0)
    assert denied["errors"] == ["This API token does not have the “twofactorauth:write” scope."]
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["twofactorauth"], [])
        uow.commit()
    full = make_token(container, alice, "full")
    off = uapi(client.get("/execute/TwoFactorAuth/generate_user_configuration", headers=auth("alice", full.secret)), 0)
    assert off["errors"] == ["You do not have the feature “twofactorauth”."]
    # as cPanel: the state stays visible with the feature off
    assert uapi(client.get("/execute/TwoFactorAuth/get_user_configuration", headers=auth("alice", full.secret)), 1)
