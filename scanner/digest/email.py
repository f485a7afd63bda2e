"""Optional SMTP delivery of a digest: HTML with the Markdown as the plain-text alternative."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from scanner.config import EmailConfig
from scanner.errors import DeliveryError

logger = logging.getLogger(__name__)


def build_message(cfg: EmailConfig, subject: str, html: str, text: str) -> EmailMessage:
    """The digest as one message: the Markdown as plain text, the HTML as its alternative."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "localhost")
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def send_digest_email(cfg: EmailConfig, subject: str, html: str, text: str, timeout: float = 30.0) -> None:
    """Send one digest to ``cfg.recipients``; raise ``DeliveryError`` saying what to fix."""
    password = None
    if cfg.password_env:
        password = os.environ.get(cfg.password_env)
        if password is None:
            raise DeliveryError(f"digest.email.password_env names {cfg.password_env!r} but that environment "
                                f"variable is not set: export {cfg.password_env}=… before running")
    try:
        msg = build_message(cfg, subject, html, text)
    except (ValueError, TypeError) as e:  # e.g. a line break in an address (config checks it; this is the net)
        raise DeliveryError(f"could not build the digest e-mail: {e}") from e
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if cfg.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{cfg.host}:{cfg.port} does not offer STARTTLS: set digest.email.starttls: "
                                        "false only if the server is on a trusted network")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if cfg.user:
                smtp.login(cfg.user, password or "")
            refused = smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        raise DeliveryError(f"could not send the digest via {cfg.host}:{cfg.port}: {e}") from e
    if refused:
        logger.warning("some recipients were refused: %s", ", ".join(refused))
    logger.info("digest e-mailed to %d recipients via %s:%s", len(cfg.recipients), cfg.host, cfg.port)
