"""Declaring UAPI functions: each names the scope and feature it needs, and documents its parameters.

The dispatcher enforces the declared scope and feature in one place; functions never check permissions themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hostpanel.domain.permissions import SCOPE_FEATURES, Access, Feature, Scope, ScopeModule

if TYPE_CHECKING:
    from hostpanel.api.uapi.call import Call

Handler = Callable[["Call"], Any]
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    required: bool = False
    repeated: bool = False
    type: str = "string"  # string | integer | boolean, for the OpenAPI description
    example: str | None = None


@dataclass(frozen=True)
class UapiFunction:
    module: str
    name: str
    scope: Scope
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

    @property
    def writes(self) -> bool:
        return self.scope.access == Access.WRITE and not self.own_transactions


_UNSET: Any = object()


@dataclass
class UapiModule:
    """A UAPI module (`Tokens`, `Fileman`, ...); its functions need its scope module and that module's feature."""

    name: str
    scope_module: ScopeModule
    description: str
    functions: dict[str, UapiFunction] = field(default_factory=dict)

    @property
    def feature(self) -> Feature | None:
        return SCOPE_FEATURES[self.scope_module]

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
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.functions[name] = UapiFunction(
                module=self.name,
                name=name,
                scope=Scope(self.scope_module, access),
                feature=self.feature if feature is _UNSET else feature,
                summary=summary,
                params=tuple(params),
                handler=handler,
                returns_list=returns_list,
                accepts_uploads=accepts_uploads,
                returns_file=returns_file,
                own_transactions=own_transactions,
                uses_database=uses_database,
            )
            return handler

        return register


class UnknownFunction(Exception):
    """cPanel's framework error for a module, function or name that does not resolve."""


class Registry:
    def __init__(self, modules: Iterable[UapiModule]) -> None:
        self._modules = {module.name: module for module in modules}

    def find(self, module: str, function: str) -> UapiFunction:
        if not FUNCTION_NAME.fullmatch(function):
            raise UnknownFunction(f"Illegal function name: {function}")
        found = self._modules.get(module)
        if found is None:
            raise UnknownFunction(f"Failed to load module “{module}”: no such module.")
        if function not in found.functions:
            raise UnknownFunction(f"The system could not find the function “{function}” in the module “{module}”.")
        return found.functions[function]

    def modules(self) -> list[UapiModule]:
        return list(self._modules.values())

    def __iter__(self) -> Iterator[UapiFunction]:
        for module in self._modules.values():
            yield from module.functions.values()
