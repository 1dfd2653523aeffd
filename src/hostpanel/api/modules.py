"""The UAPI modules this server offers."""

from __future__ import annotations

from hostpanel.api.uapi.registry import Registry
from hostpanel.modules.activitylog.uapi import module as activitylog
from hostpanel.modules.backup.uapi import module as backup
from hostpanel.modules.email.uapi import module as email
from hostpanel.modules.features.uapi import module as features
from hostpanel.modules.fileman.uapi import module as fileman
from hostpanel.modules.tokens.uapi import module as tokens
from hostpanel.modules.twofactorauth.uapi import module as twofactorauth


def default_registry() -> Registry:
    return Registry([activitylog, backup, email, features, fileman, tokens, twofactorauth])
