"""What a function receives: who calls, the arguments, the list options, and the services of this one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.files.service import Upload
from hostpanel.domain.principal import Principal
from hostpanel.functions.args import Args
from hostpanel.functions.listing import ListOptions
from hostpanel.services import Services


class Delegate(Protocol):
    def __call__(self, account: Account, module: str, function: str, args: Args, *, api: str = ...) -> Any: ...


@dataclass
class Call:
    """One call of a function. `messages`, `warnings` and `metadata` are what the function adds to its answer;
    the dialect writes them into its envelope."""

    principal: Principal
    args: Args
    list_options: ListOptions
    services: Services
    uploads: list[Upload] = field(default_factory=list)  # file parts of a multipart request, in staging
    # Calls a UAPI (or API 2) function (account, module, function, arguments, namespace) as an account the caller
    # reaches, through the gate (WHM's uapi_cpanel, cpanel and DNS functions); answers what the gate's `call` answers.
    delegate: Delegate | None = None
    # Calls another function of the same namespace as the same caller (WHM's batch), through the gate.
    subcall: Callable[[str, Args], Any] | None = None
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> float:
        return self.services.clock.now()


@dataclass(frozen=True)
class Proxied:
    """What another API's function answered when called through WHM's `cpanel` proxy: the dialect writes it in that
    API's shape (`apiversion` 2: API 2's `cpanelresult`; 3: UAPI's result object), not in WHM's envelope."""

    apiversion: int
    module: str
    func: str
    data: Any = None
    error: HostpanelError | None = None
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


PROXY_PREFIX = "cpanel_jsonapi_"


def proxied_version(get: Callable[[str], str | None]) -> str:
    """The API version a `cpanel` proxy call asks for: cpanel_jsonapi_apiversion, or the cpanel_jsonapi_version
    some clients send (gufy's); "2" when neither is given."""
    given = get(PROXY_PREFIX + "apiversion") or get(PROXY_PREFIX + "version") or "2"
    return given.strip()


class FailureWithData(HostpanelError):
    """Fail the call yet answer with data, as some cPanel functions do (`Fileman::upload_files`)."""

    def __init__(self, message: str, data: Any) -> None:
        super().__init__(message)
        self.data = data


class NoDatabase:
    """The unit of work of a function declared `uses_database=False`: any use is a bug, and says so."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"this function declared that it uses no database, yet asked for `{name}`")
