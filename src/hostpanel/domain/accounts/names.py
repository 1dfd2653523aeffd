"""Validation of usernames, domains and contact addresses, following cPanel's rules."""

from __future__ import annotations

import re

from hostpanel.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"[a-z][a-z0-9]{0,15}")
# Names cPanel keeps for the system and its services, and the prefixes and endings it refuses.
RESERVED_USERNAMES = frozenset({
    "abrt", "all", "clamav", "cpeasyapache", "cpses", "cptkt", "cphulkd", "cpwebcalls", "dbus", "dirs", "dnsadmin",
    "dovecot", "eximstats", "files", "ftpxferlog", "haldaemon", "mailman", "modsec", "munin", "mydns", "nobody",
    "postgres", "postmaster", "proftpd", "root", "roundcube", "shadow", "spamassassin", "ssl", "sys", "system",
    "tcpdump", "tmp", "tomcat", "toor", "virtfs", "virtual", "webmaster", "whmxfer",
    "admin", "administrator", "daemon", "mail", "www",
})  # fmt: skip
RESERVED_PREFIXES = ("test", "cpmydns", "cpanel", "mydns", "pg", "cpses", "cptkt", "cpbackup")
RESERVED_SUFFIXES = ("assword",)
DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def validate_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "username",
            f"“{username}” is not a valid username: use 1 to 16 lowercase letters and digits, starting with a letter.",
        )
    if username in RESERVED_USERNAMES or username.startswith(RESERVED_PREFIXES) or username.endswith(RESERVED_SUFFIXES):
        raise InvalidInput("username", f"“{username}” is a reserved username.")
    return username


def validate_domain(domain: str) -> str:
    """A lowercase fully qualified host name (at least two labels, the last one not numeric)."""
    name = domain.strip().lower().rstrip(".")
    labels = name.split(".")
    if (
        len(name) > 253
        or len(labels) < 2
        or not all(DOMAIN_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput("domain", f"“{domain}” is not a valid domain name.")
    return name


def validate_email(address: str) -> str:
    local, at, domain = address.strip().rpartition("@")
    if not at or len(local) > 64 or not EMAIL_LOCAL.fullmatch(local):
        raise InvalidInput("email", f"The email address “{address}” is not valid.")
    try:
        return f"{local}@{validate_domain(domain)}"
    except InvalidInput:
        raise InvalidInput("email", f"The email address “{address}” is not valid.") from None
