"""The UAPI modules this server offers."""

from __future__ import annotations

from hostpanel.api.uapi.registry import Registry
from hostpanel.modules.activitylog.uapi import module as activitylog
from hostpanel.modules.features.uapi import module as features
from hostpanel.modules.tokens.uapi import module as tokens
from hostpanel.modules.twofactorauth.uapi import module as twofactorauth


def default_registry() -> Registry:
    return Registry([activitylog, features, tokens, twofactorauth])
