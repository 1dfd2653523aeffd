"""The API's modules, one package each; each declares its functions on a `functions.registry.Module`.

A module package imports the domain and `hostpanel.functions`, never another module package nor an interface
(`api`, `web`, `cli`). This list is the one place that knows them all; the composition root (`app.py`) serves it.
"""

from __future__ import annotations

from hostpanel.functions.registry import Registry
from hostpanel.modules.activitylog.uapi import module as activitylog
from hostpanel.modules.backup.uapi import module as backup
from hostpanel.modules.email.uapi import module as email
from hostpanel.modules.features.uapi import module as features
from hostpanel.modules.fileman.uapi import module as fileman
from hostpanel.modules.tokens.uapi import module as tokens
from hostpanel.modules.twofactorauth.uapi import module as twofactorauth


def default_registry() -> Registry:
    """Every module this server offers."""
    return Registry([activitylog, backup, email, features, fileman, tokens, twofactorauth])
