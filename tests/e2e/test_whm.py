"""WHM against `hostpanel serve` on its two ports: a provisioning lifecycle through a WHM client from PyPI
(whambampy), the exact requests of the WHMCS cPanel module's lifecycle and of lego's WHM mode (a DNS-01 challenge
record put in and taken out, the nameserver asked after each call), and the administration pages and a single
sign-on link in a real browser (with screenshots)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import dns.flags
import dns.message
import dns.query
import httpx
import pytest
from playwright.sync_api import Browser
from whambampy.whm import whm as whm_client

from tests.e2e.browser import Visit, sign_in
from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, running_servers

# whambampy does not verify certificates by default (as most WHM clients, for servers with self-signed ones).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore:Unverified HTTPS request"),
]
NEW_PASSWORD = "Lantern-Orchard-Quarry-58"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("whm")
    env = environment(root / "var", HOSTPANEL_SSO_HOST="127.0.0.1", HOSTPANEL_LOGIN_FAILURE_DELAY_SECONDS="0.1")
    hostpanel(env, "init", "--root-password-stdin", stdin=PASSWORD + "\n")
    hostpanel(env, "whmapi1", "addpkg", "name=bronze", "maxpop=5")
    hostpanel(env, "whmapi1", "addpkg", "name=silver", "maxpop=50")
    # Two workers, each serving both ports: a single sign-on link made in one may be used in the other.
    with running_servers(env, "--workers", "2", log=root / "serve.log") as (base, whm_base):
        yield base, whm_base, env


def root_token(env: dict[str, str], name: str) -> str:
    made = json.loads(hostpanel(env, "whmapi1", "api_token_create", f"token_name={name}").stdout)
    return str(made["data"]["token"])


def uapi_status(base: str, user: str, token: str) -> int:
    headers = {"Authorization": f"cpanel {user}:{token}"}
    return httpx.get(f"{base}/execute/Tokens/list", headers=headers, verify=False, timeout=10).status_code


def test_a_billing_system_provisions_through_a_whm_client_from_pypi(server: tuple[str, str, dict[str, str]]) -> None:
    base, whm_base, env = server
    parts = urlsplit(whm_base)
    # whambampy opens a WHM session with create_user_session and puts its /cpsess prefix in front of every call.
    client = whm_client(parts.hostname, "root", root_token(env, "whambampy"), whm_port=parts.port)
    made = client.call("createacct", username="shopone", domain="shopone.test", password=PASSWORD, plan="bronze",
                       contactemail="owner@shopone.test")  # fmt: skip
    assert "Creation Ok" in made["metadata"]["reason"] and made["data"]["package"] == "bronze"
    session = client.call("create_user_session", user="shopone", service="cpaneld")
    assert urlsplit(session["data"]["url"]).port == urlsplit(base).port
    token = json.loads(hostpanel(env, "uapi", "--user", "shopone", "Tokens", "create_full_access", "name=t").stdout)
    secret = token["data"]["token"]
    assert uapi_status(base, "shopone", secret) == 200
    assert client.call("suspendacct", user="shopone", reason="unpaid")["metadata"]["result"] == 1
    assert uapi_status(base, "shopone", secret) == 401
    assert client.call("unsuspendacct", user="shopone")["metadata"]["result"] == 1
    assert uapi_status(base, "shopone", secret) == 200
    assert client.call("passwd", user="shopone", password=NEW_PASSWORD)["metadata"]["result"] == 1
    assert client.call("changepackage", user="shopone", pkg="silver")["metadata"]["result"] == 1
    listed = client.call("listaccts", search="shopone", searchtype="user")["data"]["acct"]
    assert [(a["user"], a["plan"]) for a in listed] == [("shopone", "silver")]
    assert client.call("removeacct", user="shopone")["metadata"]["result"] == 1
    assert uapi_status(base, "shopone", secret) == 401


def whmcs(whm_base: str, token: str, function: str, version: int | None, **form: str) -> Any:
    """A request as the WHMCS cPanel module sends it: POST form (a bare GET without arguments), `WHM user:token`."""
    headers = {"Authorization": f"WHM root:{token}"}
    data = {**({"api.version": "1"} if version == 1 else {}), **form}
    with httpx.Client(verify=False, timeout=30) as client:
        if not data:
            response = client.get(f"{whm_base}/json-api/{function}", headers=headers)
        else:
            response = client.post(f"{whm_base}/json-api/{function}", data=data, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_whmcs_cpanel_modules_lifecycle(server: tuple[str, str, dict[str, str]]) -> None:
    _, whm_base, env = server
    token = root_token(env, "WHMCSabc123XyZ9q")
    assert whmcs(whm_base, token, "version", None)["version"]  # Test Connection
    packages = [p["name"] for p in whmcs(whm_base, token, "listpkgs", None)["package"]]
    assert "bronze" in packages
    for user in ("clientab", "clientabc"):
        form = {"username": user, "password": PASSWORD, "domain": f"{user}.test", "savepkg": "0", "plan": "bronze",
                "contactemail": f"c@{user}.test", "reseller": "0", "cgi": "1", "ip": "0"}  # fmt: skip
        made = whmcs(whm_base, token, "createacct", 1, **form)
        assert made["metadata"]["result"] == 1 and made["data"]["ip"]  # WHMCS: result != "0", reads data.ip
    lookup = whmcs(whm_base, token, "listaccts", None, search="clientab", searchtype="user")
    assert lookup["status"] == 1 and lookup["acct"][0]["user"] == "clientab"  # acct[0]: the exact match first
    sso = whmcs(whm_base, token, "create_user_session", 1, user="clientab", service="cpaneld", app="Email_Accounts")
    assert sso["data"]["url"].startswith("https://") and ":" in urlsplit(sso["data"]["url"]).netloc
    assert (
        whmcs(whm_base, token, "suspendacct", 1, user="clientab", reason="Overdue on Payment")["metadata"]["result"]
        == 1
    )
    refused = whmcs(whm_base, token, "passwd", None, user="clientab", **{"pass": NEW_PASSWORD})
    assert refused["passwd"][0]["status"] == 0 and "currently suspended" in refused["passwd"][0]["statusmsg"]
    assert whmcs(whm_base, token, "unsuspendacct", 1, user="clientab")["metadata"]["result"] == 1
    changed = whmcs(whm_base, token, "passwd", None, user="clientab", **{"pass": NEW_PASSWORD})
    assert changed["passwd"][0]["status"] == 1
    assert whmcs(whm_base, token, "myprivs", 1)["data"]["privileges"][0]["all"] == 1
    assert isinstance(whmcs(whm_base, token, "listresellers", 1)["data"]["reseller"], list)
    assert whmcs(whm_base, token, "changepackage", None, user="clientab", pkg="silver")["result"][0]["status"] == 1
    unknown = whmcs(whm_base, token, "changepackage", None, user="clientab", pkg="platinum")["result"][0]
    assert unknown["status"] == 0 and unknown["statusmsg"] == "The package “platinum” does not exist."
    for user in ("clientab", "clientabc"):
        removed = whmcs(whm_base, token, "removeacct", None, user=user, keepdns="0")["result"][0]
        assert removed["status"] == 1 and removed["statusmsg"] == f"{user} account removed"


def lego(whm_base: str, token: str, function: str, **query: str) -> dict[str, Any]:
    """A request as lego's cPanel provider sends it in WHM mode: GET, the query encoded as Go's url.Values does it
    (keys sorted), `whm user:token`, `Accept: application/json`; anything but HTTP 200 is an error to it."""
    url = f"{whm_base}/json-api/{function}?" + urlencode(sorted({"api.version": "1", **query}.items()))
    headers = {"Authorization": f"whm root:{token}", "Accept": "application/json"}
    response = httpx.get(url, headers=headers, verify=False, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["metadata"]["result"] != 0, body  # what lego checks
    return body


def challenge_served(env: dict[str, str], name: str) -> list[str]:
    """The TXT strings the server's nameserver answers for `name` with authority, as the CA's validator asks."""
    host, _, port = env["HOSTPANEL_DNS_LISTEN"].rpartition(":")
    query = dns.message.make_query(name, "TXT")
    query.flags &= ~dns.flags.RD
    answer = dns.query.udp(query, host, port=int(port), timeout=3)
    assert answer.flags & dns.flags.AA, answer
    return [b"".join(rdata.strings).decode() for rrset in answer.answer for rdata in rrset]


def lego_serial(payload: list[dict[str, Any]], apex: str) -> str:
    """lego's reading of the serial: the SOA item whose dname is the apex with its dot, data_b64[2] as a uint32."""
    dname = base64.b64encode(f"{apex}.".encode()).decode()
    soa = next(i for i in payload if i["type"] == "record" and i["record_type"] == "SOA" and i["dname_b64"] == dname)
    serial = base64.b64decode(soa["data_b64"][2]).decode()
    assert 0 <= int(serial) < 2**32
    return serial


def test_legos_whm_mode_puts_in_and_takes_out_a_challenge(server: tuple[str, str, dict[str, str]]) -> None:
    _, whm_base, env = server
    token = root_token(env, "lego")
    form = {"username": "legouser", "domain": "lego.test", "password": PASSWORD, "api.version": "1"}
    made = httpx.post(f"{whm_base}/json-api/createacct", data=form, headers={"Authorization": f"whm root:{token}"},
                      verify=False, timeout=30)  # fmt: skip
    assert made.json()["metadata"]["result"] == 1, made.text
    value = "kH0tWb4cXq8oJm1E2u3Y4t5R6e7W8q9A0s1D2f3G4h5"
    fqdn = "_acme-challenge.lego.test"
    # Present: read the zone, no record holds the value, so add one.
    payload = lego(whm_base, token, "parse_dns_zone", zone="lego.test")["data"]["payload"]
    assert not any(base64.b64encode(value.encode()).decode() in i.get("data_b64", []) for i in payload)
    record = {"dname": f"{fqdn}.", "ttl": 300, "record_type": "TXT", "data": [value]}
    add = json.dumps(record, separators=(",", ":"))  # Go's encoding/json: compact, fields in struct order
    serial = lego_serial(payload, "lego.test")
    added = lego(whm_base, token, "mass_edit_dns_zone", zone="lego.test", serial=serial, add=add)
    assert isinstance(added["data"]["new_serial"], str) and int(added["data"]["new_serial"]) > int(serial)
    assert challenge_served(env, fqdn) == [value]  # at once, when the call returns
    # CleanUp: read the zone again, find the record by its value, remove its line.
    payload = lego(whm_base, token, "parse_dns_zone", zone="lego.test")["data"]["payload"]
    encoded = base64.b64encode(value.encode()).decode()
    line = next(i["line_index"] for i in payload if i["type"] == "record" and i["data_b64"] == [encoded])
    serial = lego_serial(payload, "lego.test")
    removed = lego(whm_base, token, "mass_edit_dns_zone", zone="lego.test", serial=serial, remove=str(line))
    assert int(removed["data"]["new_serial"]) > int(serial)
    assert challenge_served(env, fqdn) == []


def test_single_sign_on_in_a_browser_once(server: tuple[str, str, dict[str, str]], browser: Browser) -> None:
    base, whm_base, env = server
    hostpanel(env, "whmapi1", "createacct", "username=ssouser", "domain=ssouser.test", f"password={PASSWORD}")
    url = whmcs(whm_base, root_token(env, "sso"), "create_user_session", 1, user="ssouser", service="cpaneld")["data"][
        "url"
    ]
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_url(f"{base}/security/tokens")  # the signed-in page moved on by itself
    assert page.get_by_text("Signed in as").is_visible() and "ssouser" in page.content()
    context.close()
    again = browser.new_context(ignore_https_errors=True)
    page = again.new_page()
    page.goto(url)
    assert page.get_by_label("Password").is_visible()  # used once: the sign-in form, not the panel
    again.close()


def test_the_administration_pages(server: tuple[str, str, dict[str, str]], browser: Browser) -> None:
    base, whm_base, env = server
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, whm_base, PASSWORD, "root")
    page.wait_for_url(f"{whm_base}/accounts")
    page.goto(whm_base + "/accounts/new")
    page.get_by_label("User name").fill("webshop")
    page.get_by_label("Domain").fill("webshop.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Contact address").fill("owner@webshop.test")
    page.get_by_label("Package").select_option("bronze")
    visit.check("30-whm-create-account")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"{whm_base}/accounts?*")
    assert page.get_by_role("row", name="webshop").is_visible()
    hostpanel(env, "uapi", "--user", "webshop", "Tokens", "create_full_access", "name=deploy")
    page.goto(whm_base + "/accounts")
    visit.check("31-whm-accounts")
    page.goto(whm_base + "/packages")
    visit.check("32-whm-packages")
    page.goto(whm_base + "/resellers")
    page.get_by_role("textbox", name="Account").fill("webshop")
    page.get_by_role("button", name="Make reseller").click()
    page.wait_for_url(f"{whm_base}/resellers?*")
    visit.check("33-whm-resellers")
    page.goto(whm_base + "/api-tokens/new")
    page.get_by_role("textbox", name="Name").fill("whmcs")
    page.get_by_role("checkbox", name="create-acct Create accounts").check()
    page.get_by_role("checkbox", name="list-accts List accounts").check()
    visit.check("34-whm-token-acls")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="Token").input_value()
    visit.check("35-whm-token-created")
    headers = {"Authorization": f"whm root:{secret}"}
    listed = httpx.get(f"{whm_base}/json-api/listaccts?api.version=1", headers=headers, verify=False, timeout=10)
    assert listed.json()["metadata"]["result"] == 1
    refused = httpx.get(f"{whm_base}/json-api/removeacct?api.version=1&user=webshop", headers=headers, verify=False)
    assert refused.json()["metadata"]["result"] == 0  # only the ACLs picked
    page.goto(whm_base + "/token-oversight?user=webshop")
    visit.check("36-whm-token-oversight")
    page.get_by_role("button", name="Revoke all of webshop").click()
    page.wait_for_url(f"{whm_base}/token-oversight?*")
    page.goto(whm_base + "/accounts")
    page.get_by_role("button", name="Log in as webshop").click()
    page.wait_for_url(f"{base}/security/tokens")
    assert "webshop" in page.content()
    context.close()
