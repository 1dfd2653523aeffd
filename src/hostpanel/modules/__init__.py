"""The API's modules, one package each; each declares its functions on a `functions.registry.Module` (WHM API 1's
functions are one module of their own namespace).

A module package imports the domain and `hostpanel.functions`, never another module package nor an interface
(`api`, `web`, `cli`). This list is the one place that knows them all; the composition root (`app.py`) serves it.
"""

from __future__ import annotations

from hostpanel.functions.registry import Registry
from hostpanel.modules.activitylog.uapi import module as activitylog
from hostpanel.modules.addondomain.api2 import module as addondomain2
from hostpanel.modules.backup.uapi import module as backup
from hostpanel.modules.custinfo.api2 import module as custinfo
from hostpanel.modules.dns.uapi import module as dns
from hostpanel.modules.domaininfo.uapi import module as domaininfo
from hostpanel.modules.email.uapi import module as email
from hostpanel.modules.features.uapi import module as features
from hostpanel.modules.fileman.uapi import module as fileman
from hostpanel.modules.park.api2 import module as park2
from hostpanel.modules.ssl.api2 import module as ssl2
from hostpanel.modules.ssl.uapi import module as ssl
from hostpanel.modules.subdomain.api2 import module as subdomain2
from hostpanel.modules.subdomain.uapi import module as subdomain
from hostpanel.modules.tokens.uapi import module as tokens
from hostpanel.modules.twofactorauth.uapi import module as twofactorauth
from hostpanel.modules.whm.api import module as whm
from hostpanel.modules.zoneedit.api2 import module as zoneedit


def default_registry() -> Registry:
    """Every module this server offers (UAPI's, then cPanel API 2's, then WHM API 1's)."""
    return Registry(
        [
            *(activitylog, backup, dns, domaininfo, email, features, fileman, ssl, subdomain, tokens),
            twofactorauth,
            *(addondomain2, custinfo, park2, ssl2, subdomain2, zoneedit),
            whm,
        ]
    )
