"""Sending notices by SMTP (`HOSTPANEL_SMTP_URL`), or only logging them when no server is configured."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class SmtpNotifier:
    """`smtp://[user:password@]host[:port]`; `smtps://` for TLS from the start; `?starttls=1` to upgrade."""

    def __init__(self, url: str, sender: str, timeout: float = 10) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("HOSTPANEL_SMTP_URL must look like smtp://host:port or smtps://host:port")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._starttls = parse_qs(parts.query).get("starttls", ["0"])[0] == "1"
        self._sender = sender
        self._timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = (
            smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
            if self._tls
            else smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        )
        with smtp:
            if self._starttls:
                smtp.starttls(context=context)
            if self._user is not None:
                smtp.login(self._user, self._password or "")
            smtp.send_message(message)


class LogNotifier:
    """No SMTP server configured: say that a notice would have gone out, without its body."""

    def send(self, to: str, subject: str, body: str) -> None:  # noqa: ARG002 - the body is not logged on purpose
        log.info("notice not mailed (HOSTPANEL_SMTP_URL is not set): to %s: %s", to, subject)
