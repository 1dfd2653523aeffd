"""Mailboxes and forwarders of an account, on its own domains, within a token's `email_domains`.

`_allowed` is the one place a token's `email_domains` restriction is applied: it decides what the token may see
(lists leave other domains out) and change (anything else is refused, naming the restriction).
"""

from __future__ import annotations

import stat
from collections.abc import Callable

import re2

from hostpanel.domain.accounts.names import validate_domain, validate_email
from hostpanel.domain.accounts.passwords import PasswordHasher, check_strength
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import InvalidInput, NotFound, RestrictionDenied
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.mail.model import MAX_DESTINATIONS, MAX_FORWARDERS, Forwarder, Mailbox, validate_local_part
from hostpanel.domain.mail.server import maildir_parts
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.restrictions import EmailDomains
from hostpanel.domain.whm.packages import limit_of

MAILDIR_MODE = 0o700
MAX_REGEX_LENGTH = 100
# An alias map item starting with these is a pipe to a command or a file to append to for Exim's redirect router,
# not an address; both characters are valid in a local part, but never at the start of one worth forwarding to.
ALIAS_DIRECTIVES = ("|", "/")
# The caller's pattern runs on RE2 (time linear in the text), as list filters do: Python's re can backtrack for
# hours on a crafted pattern while holding the GIL. RE2 would log refused patterns to stderr: off.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def address_filter(pattern: str | None) -> Callable[[str], bool]:
    """cPanel's `regex` argument on lists (kept short: it runs over every address)."""
    if not pattern:
        return lambda _address: True
    if len(pattern) > MAX_REGEX_LENGTH:
        raise InvalidInput("regex", f"The “regex” argument may be at most {MAX_REGEX_LENGTH} characters long.")
    try:
        compiled = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as error:
        raise InvalidInput("regex", f"The “regex” argument is not a valid regular expression: {error}.") from None
    return lambda address: compiled.search(address) is not None


class MailService:
    """An account's mailboxes and forwarders for one principal, within the token's `email_domains`."""

    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        jail: Jail,
        hasher: PasswordHasher,
        clock: Clock,
        audit: AuditLog,
        publish: Callable[[], None],
    ) -> None:
        self._uow = uow
        self._principal = principal
        self._account = principal.account
        self._jail = jail
        self._hasher = hasher
        self._clock = clock
        self._audit = audit
        self._publish = publish
        self._restriction = principal.restrictions.get(EmailDomains)

    # Domains ---------------------------------------------------------------------------------------------------

    def _allowed(self, domain: str) -> bool:
        return self._restriction is None or self._restriction.allows(domain)

    def domains(self) -> list[str]:
        """The account's domains, its main domain first (whatever a token's restriction allows)."""
        return self._uow.accounts.domains(self._account.id)

    def domain(self, text: str | None) -> str:
        """The account's domain named by `text` (default: its first, cPanel's main domain), if the token may use it."""
        owned = self.domains()
        if not text:
            if not owned:
                raise InvalidInput("domain", "The account has no domain: the administrator adds one first.")
            text = owned[0]
        domain = validate_domain(text)
        if domain not in owned:
            raise InvalidInput("domain", f"The domain “{domain}” does not belong to this account.")
        if not self._allowed(domain):
            assert self._restriction is not None
            raise RestrictionDenied(
                f"This API token may only manage email on {', '.join(self._restriction.domains)} "
                f"(restriction “{EmailDomains.key}”); “{domain}” is not one of them.",
                EmailDomains.key,
                detail=domain,
            )
        return domain

    def address(self, email: str, domain: str | None, field: str = "email") -> tuple[str, str]:
        """(local part, domain) from cPanel's `email` (a local part or a whole address) and `domain`."""
        local, at, given = email.partition("@")
        if at:
            if domain and validate_domain(domain) != validate_domain(given):
                raise InvalidInput(field, f"The address “{email}” is not on the domain “{domain}”.")
            domain = given
        return validate_local_part(local, field), self.domain(domain)

    # Mailboxes -------------------------------------------------------------------------------------------------

    def mailboxes(self, domain: str | None = None) -> list[Mailbox]:
        """The mailboxes the caller may see, by address."""
        wanted = self.domain(domain) if domain else None
        return sorted(
            (
                m
                for m in self._uow.mail.mailboxes(self._account.id)
                if self._allowed(m.domain) and (wanted is None or m.domain == wanted)
            ),
            key=lambda m: (m.domain, m.local_part),
        )

    def mailbox(self, email: str, domain: str | None) -> Mailbox:
        local, domain_name = self.address(email, domain)
        found = self._uow.mail.get_mailbox(self._account.id, domain_name, local)
        if found is None:
            raise NotFound(f"The email account “{local}@{domain_name}” does not exist.")
        return found

    def add_mailbox(self, email: str, domain: str | None, password: str, quota_mb: int) -> Mailbox:
        """Validate, store, make the Maildir; the mail server's files follow once the change has committed."""
        local, domain_name = self.address(email, domain)
        check_strength(password, _name_hint(local))
        self._check_package(quota_mb)
        mailbox = self._uow.mail.add_mailbox(
            account_id=self._account.id,
            domain=domain_name,
            local_part=local,
            password_hash=self._hasher.hash(password),
            quota_mb=quota_mb,
            created_at=int(self._clock.now()),
        )
        self._make_maildir(domain_name, local)
        self._uow.on_commit(self._publish)
        self._record(AuditAction.ACCOUNT_MAILBOX_CREATE, mailbox.address, quota_mb=quota_mb)
        return mailbox

    def _check_package(self, quota_mb: int) -> None:
        """The account's package limits (MAXPOP, MAX_EMAILACCT_QUOTA), read fresh: a package change applies at once."""
        account = self._uow.accounts.get(self._account.id) or self._account
        allowed = limit_of(account.limits, "MAXPOP")
        if allowed is not None and len(self._uow.mail.mailboxes(account.id)) >= allowed:
            raise InvalidInput(
                "email", f"You cannot create more email accounts: your hosting package allows at most {allowed}."
            )
        largest = limit_of(account.limits, "MAX_EMAILACCT_QUOTA")
        if largest is not None and (quota_mb == 0 or quota_mb > largest):
            raise InvalidInput("quota", f"Your hosting package allows email account quotas of at most {largest} MB.")

    def set_password(self, email: str, domain: str | None, password: str) -> None:
        mailbox = self.mailbox(email, domain)
        check_strength(password, _name_hint(mailbox.local_part))
        self._uow.mail.set_mailbox_password(mailbox.id, self._hasher.hash(password))
        self._uow.on_commit(self._publish)
        self._record(AuditAction.ACCOUNT_MAILBOX_PASSWORD, mailbox.address)

    def set_quota(self, email: str, domain: str | None, quota_mb: int) -> None:
        mailbox = self.mailbox(email, domain)
        self._uow.mail.set_mailbox_quota(mailbox.id, quota_mb)
        self._uow.on_commit(self._publish)
        self._record(AuditAction.ACCOUNT_MAILBOX_QUOTA, mailbox.address, quota_mb=quota_mb)

    def delete_mailbox(self, email: str, domain: str | None) -> None:
        """The login goes at commit; the Maildir with its mail is removed after that."""
        mailbox = self.mailbox(email, domain)
        self._uow.mail.delete_mailbox(mailbox.id)
        self._uow.on_commit(self._publish)
        self._uow.on_commit(lambda: self._jail.remove(HomePath(maildir_parts(mailbox.domain, mailbox.local_part))))
        self._record(AuditAction.ACCOUNT_MAILBOX_DELETE, mailbox.address)

    def disk_usage(self, mailbox: Mailbox) -> tuple[int, float]:
        """Bytes in the Maildir (links not followed) and its last change time."""
        path = HomePath(maildir_parts(mailbox.domain, mailbox.local_part))
        try:
            mtime = self._jail.lstat(path).st_mtime
            used = sum(entry.stat.st_size for entry in self._jail.walk(path) if stat.S_ISREG(entry.stat.st_mode))
        except (NotFound, InvalidInput):
            return 0, 0.0
        return used, mtime

    def _make_maildir(self, domain: str, local: str) -> None:
        path = HomePath(maildir_parts(domain, local))
        try:
            self._jail.lstat(path)
            existed = True  # an old Maildir is kept and reused, as cPanel does
        except NotFound:
            existed = False
        for sub in ("cur", "new", "tmp"):
            with self._jail.directory(path.join(sub), create=True, mode=MAILDIR_MODE):
                pass
        if not existed:
            self._uow.on_rollback(lambda: self._jail.remove(path))

    # Forwarders ------------------------------------------------------------------------------------------------

    def forwarders(self, domain: str | None = None) -> list[Forwarder]:
        wanted = self.domain(domain) if domain else None
        return [
            f
            for f in sorted(self._uow.mail.forwarders(self._account.id), key=lambda f: (f.address, f.destination))
            if self._allowed(f.domain) and (wanted is None or f.domain == wanted)
        ]

    def add_forwarders(self, email: str, domain: str | None, destinations: list[str]) -> list[Forwarder]:
        local, domain_name = self.address(email, domain)
        address = f"{local}@{domain_name}"
        self._check_room(address, len(destinations))
        added = []
        for destination in destinations:
            try:
                target = validate_email(destination).lower()
            except InvalidInput as error:
                raise InvalidInput("fwdemail", error.message) from None  # the destination's field, not the address's
            if target.startswith(ALIAS_DIRECTIVES):
                raise InvalidInput("fwdemail", f"The email address “{destination}” is not valid.")
            if target == address:
                raise InvalidInput("fwdemail", f"“{address}” cannot forward to itself.")
            added.append(
                self._uow.mail.add_forwarder(self._account.id, domain_name, address, target, int(self._clock.now()))
            )
            self._record(AuditAction.ACCOUNT_FORWARDER_CREATE, address, to=target)
        self._uow.on_commit(self._publish)
        return added

    def _check_room(self, address: str, adding: int) -> None:
        of_address, total = self._uow.mail.count_forwarders(self._account.id, address)
        if of_address + adding > MAX_DESTINATIONS:
            raise InvalidInput("fwdemail", f"“{address}” may forward to at most {MAX_DESTINATIONS} addresses.")
        if total + adding > MAX_FORWARDERS:
            raise InvalidInput("fwdemail", f"An account may have at most {MAX_FORWARDERS} forwarders.")

    def delete_forwarder(self, address: str, destination: str) -> None:
        local, domain_name = self.address(address, None, field="address")
        source = f"{local}@{domain_name}"
        if not self._uow.mail.delete_forwarder(self._account.id, source, destination.strip().lower()):
            raise NotFound(f"There is no forwarder from “{source}” to “{destination}”.")
        self._uow.on_commit(self._publish)
        self._record(AuditAction.ACCOUNT_FORWARDER_DELETE, source, to=destination.strip().lower())

    def _record(self, action: AuditAction, target: str, **details: str | int) -> None:
        self._audit.record_by(self._principal, action, target=target, details=dict(details))


def _name_hint(local_part: str) -> str:
    """The mailbox name the password must not contain; a one- or two-letter name would forbid half the alphabet."""
    return local_part if len(local_part) >= 3 else ""
