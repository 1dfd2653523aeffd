"""Docs are checked, not hoped for: every UAPI function, scope, setting and audit action is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.domain.audit.tags import ACTION_DESCRIPTIONS, AuditAction
from hostpanel.domain.permissions import FEATURE_DESCRIPTIONS, SCOPE_DESCRIPTIONS, SCOPE_FEATURES, Feature, ScopeModule
from hostpanel.functions.registry import WHM1, Function
from hostpanel.modules import default_registry

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    commands = [line.split("#")[0].strip() for line in README.split("```sh", 1)[1].split("```", 1)[0].splitlines()]
    assert [c for c in commands if c] == ["./scripts/demo", "./scripts/test"]
    assert README.index("```sh") < 30


@pytest.mark.parametrize("function", list(default_registry().functions(WHM1)), ids=lambda f: f.name)
def test_every_whm_function_is_in_the_readme(function: Function) -> None:
    assert f"`{function.name}`" in README, function.name


@pytest.mark.parametrize("function", list(default_registry().functions()), ids=lambda f: f"{f.module}::{f.name}")
def test_every_uapi_function_is_in_the_readme(function: Function) -> None:
    assert f"`{function.module}`" in README, function.module
    assert f"`{function.name}`" in README, function.name


def test_every_scope_feature_and_action_is_described() -> None:
    assert set(SCOPE_DESCRIPTIONS) == set(ScopeModule) == set(SCOPE_FEATURES)
    assert set(FEATURE_DESCRIPTIONS) == set(Feature)
    assert set(ACTION_DESCRIPTIONS) == set(AuditAction)


@pytest.mark.parametrize("module", list(ScopeModule), ids=str)
def test_every_scope_module_is_in_the_readme(module: ScopeModule) -> None:
    assert f"{module}:" in README, module


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_in_the_readme(name: str) -> None:
    variable = f"HOSTPANEL_{name.upper()}"
    if variable.startswith("HOSTPANEL_PASSWORD_"):
        variable = "HOSTPANEL_PASSWORD_TIME_COST" if name.endswith("time_cost") else f"..._{name.upper()[9:]}"
    assert variable in README, variable
