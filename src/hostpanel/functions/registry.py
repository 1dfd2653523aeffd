"""Declaring API functions: each names the scope and feature it needs, and documents its parameters.

Functions are grouped in modules (UAPI's `Tokens`, `Fileman`, ...) and each module belongs to one API's namespace
(`UAPI`, or `WHM1` for WHM API 1, whose functions are one flat list). A UAPI function declares the scope and account
feature it needs, a WHM function the ACLs (any one of them) it needs. Every dialect finds functions here and admits
calls through the one gate (`functions.gate`), which enforces what is declared; functions never check permissions
themselves (beyond which accounts a WHM caller reaches, which depends on the arguments).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.permissions import SCOPE_FEATURES, Access, Feature, Scope, ScopeModule

if TYPE_CHECKING:
    from hostpanel.functions.call import Call

Handler = Callable[["Call"], Any]
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_]+")
UAPI = "uapi"  # the namespace of cPanel's UAPI functions (`/execute/Module/function`)
API2 = "api2"  # cPanel API 2 (`/json-api/cpanel?cpanel_jsonapi_module=Module&cpanel_jsonapi_func=function`)
WHM1 = "whm1"  # the namespace of WHM API 1 functions (`/json-api/function`), all in one module


@dataclass(frozen=True)
class Param:
    """One documented argument of a function (the OpenAPI document is written from these)."""

    name: str
    description: str
    required: bool = False
    repeated: bool = False
    type: str = "string"  # string | integer | boolean, for the OpenAPI description
    example: str | None = None


@dataclass(frozen=True)
class Function:
    """A callable API function: its names, what it needs, its documentation and its handler."""

    module: str
    name: str
    scope: Scope | None  # a UAPI function's scope; None for a WHM function
    feature: Feature | None
    summary: str
    params: tuple[Param, ...]
    handler: Handler
    returns_list: bool
    accepts_uploads: bool = False
    returns_file: bool = False  # answers with raw bytes (a download) instead of the result object
    # Long work (a restore) must not hold the database's write lock: such a function gets a read-only unit of work
    # and records what it did through short transactions of its own.
    own_transactions: bool = False
    # Answers from the principal alone (its account and token): no transaction is opened and, once the caller was
    # admitted from memory, the function runs on the event loop without a thread hop.
    uses_database: bool = True
    # Reads a few rows of the database and touches nothing else (no files, no network, no waiting): where reads
    # never wait (see `GateParts.reads_wait`), such a call admitted from memory also runs on the event loop. Its
    # work is Python holding the interpreter's lock either way; the thread hop costs more than the read.
    quick_read: bool = False
    # A WHM function: the ACLs of which the caller needs one (empty: any WHM caller); None for a UAPI function.
    acls: tuple[str, ...] | None = None
    access: Access = Access.READ

    @property
    def writes(self) -> bool:
        return self.access == Access.WRITE and not self.own_transactions

    @property
    def label(self) -> str:
        return self.name if self.acls is not None else f"{self.module}::{self.name}"


_UNSET: Any = object()


@dataclass
class Module:
    """A module of functions (`Tokens`, `Fileman`, ...) in one API's namespace; its functions need its scope module
    and that module's feature."""

    name: str
    scope_module: ScopeModule | None
    description: str
    api: str = UAPI
    functions: dict[str, Function] = field(default_factory=dict)

    @property
    def feature(self) -> Feature | None:
        return SCOPE_FEATURES[self.scope_module] if self.scope_module is not None else None

    def function(
        self,
        name: str,
        access: Access,
        summary: str,
        *,
        params: Iterable[Param] = (),
        returns_list: bool = False,
        feature: Feature | None = _UNSET,
        accepts_uploads: bool = False,
        returns_file: bool = False,
        own_transactions: bool = False,
        uses_database: bool = True,
        quick_read: bool = False,
    ) -> Callable[[Handler], Handler]:
        assert self.scope_module is not None, "a UAPI module's functions need its scope module"
        assert not quick_read or access == Access.READ, "only a function that writes nothing is a quick read"
        scope_module = self.scope_module

        def register(handler: Handler) -> Handler:
            self.functions[name] = Function(
                module=self.name,
                name=name,
                scope=Scope(scope_module, access),
                feature=self.feature if feature is _UNSET else feature,
                summary=summary,
                params=tuple(params),
                handler=handler,
                returns_list=returns_list,
                accepts_uploads=accepts_uploads,
                returns_file=returns_file,
                own_transactions=own_transactions,
                uses_database=uses_database,
                quick_read=quick_read,
                access=access,
            )
            return handler

        return register

    def whm(
        self,
        name: str,
        acls: tuple[str, ...],
        summary: str,
        *,
        writes: bool = False,
        params: Iterable[Param] = (),
        returns_list: bool = False,
        own_transactions: bool = False,
    ) -> Callable[[Handler], Handler]:
        """A WHM API 1 function: callable by a WHM caller holding one of `acls` (empty: any WHM caller)."""

        def register(handler: Handler) -> Handler:
            self.functions[name] = Function(
                module=self.name,
                name=name,
                scope=None,
                feature=None,
                summary=summary,
                params=tuple(params),
                handler=handler,
                returns_list=returns_list,
                own_transactions=own_transactions,
                acls=acls,
                access=Access.WRITE if writes else Access.READ,
            )
            return handler

        return register


class UnknownFunction(HostpanelError):
    """cPanel's framework error for a module, function or name that does not resolve."""


class Registry:
    """Every module of every API namespace this server offers; dialects look their functions up here."""

    def __init__(self, modules: Iterable[Module]) -> None:
        self._modules = {(module.api, module.name): module for module in modules}

    def find(self, module: str, function: str, api: str = UAPI) -> Function:
        if not FUNCTION_NAME.fullmatch(function):
            raise UnknownFunction(f"Illegal function name: {function}")
        found = self._modules.get((api, module))
        if found is None and not any(namespace == api for namespace, _ in self._modules):
            raise UnknownFunction(f"This server offers no functions in the “{api}” API.")
        if found is None:
            raise UnknownFunction(f"Failed to load module “{module}”: no such module.")
        if function not in found.functions:
            raise UnknownFunction(f"The system could not find the function “{function}” in the module “{module}”.")
        return found.functions[function]

    def knows(self, module: str, api: str = UAPI) -> bool:
        return (api, module) in self._modules

    def modules(self, api: str = UAPI) -> list[Module]:
        return [module for module in self._modules.values() if module.api == api]

    def functions(self, api: str = UAPI) -> Iterator[Function]:
        """The functions of one API's namespace, module by module."""
        for module in self.modules(api):
            yield from module.functions.values()
