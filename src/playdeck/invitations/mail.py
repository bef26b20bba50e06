"""Mail for one-time links, through the SMTP server in ``PLAYDECK_SMTP_*`` (optional).

A message is sent once the transaction that created its link has committed
(``db.after_commit``): a link that was rolled back is never mailed, and no database lock is held
while the mail server answers. A failed send is logged without the link (the administrator was
shown it, and can pass it on or issue another).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from playdeck.db import after_commit
from playdeck.settings import Settings

logger = logging.getLogger(__name__)


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def send(settings: Settings, mail: EmailMessage) -> None:
    """Deliver ``mail`` now (raises ``OSError`` or ``smtplib.SMTPException``)."""
    host, port, timeout = (
        settings.smtp_host or "",
        settings.smtp_port,
        settings.smtp_timeout_seconds,
    )
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
        if settings.smtp_username and settings.smtp_password is not None:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        client.send_message(mail)


def _deliver(settings: Settings, mail: EmailMessage) -> None:
    try:
        send(settings, mail)
    except (OSError, smtplib.SMTPException) as exc:
        # The recipient's domain only, and never the body: it holds the link.
        domain = str(mail["To"]).rpartition("@")[2]
        logger.warning("mail to a recipient at %s was not sent: %s", domain, type(exc).__name__)
    else:
        logger.info("mail sent: %s", mail["Subject"])


def send_after_commit(
    session: Session, settings: Settings, *, to: str | None, subject: str, body: str
) -> str | None:
    """Queue ``body`` for ``to`` once the transaction commits; the address, or ``None`` when
    there is no mail server or no address."""
    if not to or not mail_configured(settings):
        return None
    mail = message(settings, to=to, subject=subject, body=body)
    after_commit(session, lambda: _deliver(settings, mail))
    return to


def send_link_after_commit(
    session: Session,
    settings: Settings,
    *,
    to: str | None,
    subject: str,
    opening: str,
    action: str,
    url: str,
    expires_at: datetime,
    closing: str = "",
) -> str | None:
    """A one-time link by mail (``send_after_commit``): ``opening``, then ``action`` with the
    link and when it stops working, then ``closing``, if any."""
    body = (
        f"{opening}\n\n{action} here (the link works once, until "
        f"{expires_at:%Y-%m-%d %H:%M} UTC):\n\n{url}\n"
    )
    return send_after_commit(
        session, settings, to=to, subject=subject, body=f"{body}\n{closing}\n" if closing else body
    )
