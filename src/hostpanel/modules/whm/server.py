"""WHM's functions about the server: version, gethostname, applist, get_shared_ip, listips, get_nameserver_config,
systemloadavg, get_maximum_users."""

from __future__ import annotations

import os
from typing import Any

from hostpanel.domain.whm.access import privileges
from hostpanel.functions.call import Call
from hostpanel.modules.whm.module import module

SYSTEM_INFO = ("basic-system-info", "clustering")


@module.whm("version", SYSTEM_INFO, "The cPanel version whose API this server speaks.")
def version(call: Call) -> dict[str, Any]:
    return {"version": call.services.server.version}


@module.whm("gethostname", SYSTEM_INFO, "The server's host name.")
def gethostname(call: Call) -> dict[str, Any]:
    return {"hostname": call.services.server.hostname}


@module.whm("get_shared_ip", ("basic-whm-functions", "list-accts"), "The address accounts share.")
def get_shared_ip(call: Call) -> dict[str, Any]:
    return {"ip": call.services.server.shared_ip}


@module.whm("listips", ("basic-whm-functions", "list-accts"), "The server's addresses.", returns_list=True)
def listips(call: Call) -> dict[str, Any]:
    address = call.services.server.shared_ip
    return {
        "ip": [
            {
                "ip": address,
                "public_ip": address,
                "mainaddr": 1,
                "active": 1,
                "dedicated": 0,
                "used": 1,
                "removable": 0,
                "if": "",
                "netmask": "",
                "network": "",
            }
        ]
    }


@module.whm("get_nameserver_config", ("ns-config", "basic-whm-functions"), "The nameservers new accounts get.")
def get_nameserver_config(call: Call) -> dict[str, Any]:
    return {"nameservers": list(call.services.server.nameservers)}


@module.whm("systemloadavg", ("basic-system-info", "stats"), "The load average over 1, 5 and 15 minutes.")
def systemloadavg(_call: Call) -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {"one": f"{one:.2f}", "five": f"{five:.2f}", "fifteen": f"{fifteen:.2f}"}


@module.whm("get_maximum_users", ("basic-whm-functions", "list-accts"), "How many accounts the licence allows.")
def get_maximum_users(_call: Call) -> dict[str, Any]:
    return {"maximum_users": None, "limit_reached": 0}  # no licence limits accounts here


@module.whm("applist", (), "The WHM functions the caller may call.", returns_list=True)
def applist(call: Call) -> dict[str, Any]:
    held = privileges(call.principal)
    names = sorted(
        name
        for name, function in module.functions.items()
        if function.acls is not None and (not function.acls or any(held.has(acl) for acl in function.acls))
    )
    return {"app": names}
