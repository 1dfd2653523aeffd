"""UAPI `Features::list_features` and `Features::has_feature`, with cPanel's answers."""

from __future__ import annotations

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, Feature, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("Features", ScopeModule.FEATURES, "Which features the administrator left on for the account.")


@module.function(
    "list_features",
    Access.READ,
    "Every feature and whether the account has it (1) or not (0).",
    uses_database=False,
)
def list_features(call: Call) -> dict[str, int]:
    disabled = call.principal.account.disabled_features
    return {feature.value: 0 if feature.value in disabled else 1 for feature in Feature}


@module.function(
    "has_feature",
    Access.READ,
    "1 if the account has the feature, 0 if it is off, null if unknown.",
    params=(Param("name", "A feature name, e.g. apitokens.", True),),
    uses_database=False,
)
def has_feature(call: Call) -> int | None:
    name = call.args.get("name")
    if not name:
        raise InvalidInput("name", "You must specify a feature name.")
    if name not in {feature.value for feature in Feature}:
        call.messages.append(f"The feature “{name}” does not exist.")
        return None
    if name in call.principal.account.disabled_features:
        call.messages.append(f"The feature “{name}” exists but is not enabled.")
        return 0
    return 1
