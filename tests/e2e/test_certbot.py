"""A real certificate, offline: Debian's pebble (an ACME server) validating DNS-01 challenges through hostpanel's
nameserver, and the real certbot 1.32 with the certbot-dns-cpanel plugin, authenticating with a token that may touch
nothing but certificate challenges. certbot gets `alice.test` and `*.alice.test`; afterwards no challenge is left in
the zone, and the same token cannot repoint the domain."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from hostpanel.config import Settings
from tests.factories import PASSWORD, served
from tests.processes import environment, hostpanel, pebble, running_server, trusting

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def certbot_command(certbot: Path, directory: str, folder: Path, credentials: Path) -> list[str | Path]:
    """certonly for the apex and the wildcard, DNS-01 through the cPanel plugin, no wait for propagation (the
    nameserver serves each record before the call that made it returns)."""
    return [
        certbot, "certonly", "--non-interactive", "--agree-tos", "-m", "admin@alice.test", "--server", directory,
        "--config-dir", folder / "config", "--work-dir", folder / "work", "--logs-dir", folder / "logs",
        "--preferred-challenges", "dns", "--authenticator", "cpanel", "--cpanel-credentials", credentials,
        "--cpanel-propagation-seconds", "0", "-d", "alice.test", "-d", "*.alice.test",
    ]  # fmt: skip


APEX = base64.b64encode(b"alice.test.").decode()


def test_certbot_gets_a_wildcard_certificate_with_a_token_that_only_touches_challenges(
    tmp_path: Path, certbot: Path
) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    created = hostpanel(
        env, "token", "create", "alice", "certbot", "--scope", "dns:write", "--acme-challenges", "--json"
    )
    token = json.loads(created.stdout)["token"]
    nameserver = Settings(home=tmp_path / "var", dns_listen=env["HOSTPANEL_DNS_LISTEN"])
    panel_ca = tmp_path / "var" / "tls" / "cert.pem"  # the panel's own self-signed certificate
    with (
        running_server(env, log=tmp_path / "serve.log") as base,
        pebble(tmp_path / "pebble", env["HOSTPANEL_DNS_LISTEN"]) as (directory, pebble_ca, management),
    ):
        credentials = tmp_path / "cpanel.ini"
        credentials.write_text(f"cpanel_url = {base}\ncpanel_username = alice\ncpanel_token = {token}\n")
        credentials.chmod(0o600)
        started = time.monotonic()
        run = subprocess.run(
            certbot_command(certbot, directory, tmp_path / "le", credentials),
            # certbot's ACME client trusts pebble's CA; the plugin (urllib) trusts the panel's certificate.
            env={**os.environ, "REQUESTS_CA_BUNDLE": str(pebble_ca), "SSL_CERT_FILE": str(panel_ca)},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert time.monotonic() - started < 60
        live = tmp_path / "le" / "config" / "live" / "alice.test"
        leaf = x509.load_pem_x509_certificate((live / "cert.pem").read_bytes())
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sorted(names.get_values_for_type(x509.DNSName)) == ["*.alice.test", "alice.test"]
        # Issued by pebble's CA: the chain up to the root it serves.
        chain = x509.load_pem_x509_certificates((live / "chain.pem").read_bytes())
        root = x509.load_pem_x509_certificate(httpx.get(f"{management}/roots/0", verify=trusting(pebble_ca)).content)
        leaf.verify_directly_issued_by(chain[0])
        chain[-1].verify_directly_issued_by(root)
        check_afterwards(base, token, panel_ca, nameserver)
    audit = hostpanel(env, "audit", "--action", "account:dns:edit", "--json").stdout.splitlines()
    assert [json.loads(line)["actor"] for line in audit] == ["token:certbot"] * 4  # two challenges added, two removed


def check_afterwards(base: str, token: str, panel_ca: Path, nameserver: Settings) -> None:
    """No challenge left in the zone or at the nameserver; and the token cannot repoint the domain, either way."""
    with httpx.Client(
        verify=trusting(panel_ca), timeout=10, headers={"Authorization": f"cpanel alice:{token}"}
    ) as client:
        zone = client.get(f"{base}/execute/DNS/parse_zone", params={"zone": "alice.test"}).json()
        assert zone["status"] == 1
        assert not any(item.get("record_type") == "TXT" and item["dname_b64"] != APEX for item in zone["data"])
        assert served(nameserver, "_acme-challenge.alice.test", "TXT") == []
        apex = next(item for item in zone["data"] if item.get("record_type") == "A" and item["dname_b64"] == APEX)
        serial = base64.b64decode(next(i for i in zone["data"] if i.get("record_type") == "SOA")["data_b64"][2])
        edit = {"line_index": apex["line_index"], "dname": "alice.test.", "ttl": 300, "record_type": "A"}
        refused = client.post(
            f"{base}/execute/DNS/mass_edit_zone",
            data={
                "zone": "alice.test",
                "serial": serial.decode(),
                "edit": json.dumps({**edit, "data": ["192.0.2.66"]}),
            },
        ).json()
        assert refused["status"] == 0 and "may only change DNS records named _acme-challenge" in refused["errors"][0]
        api2 = client.get(
            f"{base}/json-api/cpanel",
            params={
                "cpanel_jsonapi_apiversion": "2", "cpanel_jsonapi_module": "ZoneEdit",
                "cpanel_jsonapi_func": "edit_zone_record", "domain": "alice.test",
                "line": str(apex["line_index"] + 1), "name": "alice.test.", "type": "A", "address": "192.0.2.66",
            },
        ).json()["cpanelresult"]  # fmt: skip
        assert "may only change" in api2["error"] and api2["data"][0]["result"]["newserial"] is None
    assert served(nameserver, "alice.test", "A") == ["127.0.0.1"]
