"""E-mail delivery against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import socket
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from scanner.digest import write_digest, write_due_digest
from scanner.digest.email import send_digest_email
from scanner.errors import DeliveryError
from scanner.store import Store
from tests import digest_fixtures as fx

NOW = datetime.fromisoformat("2025-03-24T01:00:00+00:00")  # Monday 08:00 in Bangkok


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def email_config(tmp_path: Path, port: int, extra: str = "") -> Any:
    return fx.write_config(tmp_path, f"""digest:
  email:
    host: 127.0.0.1
    port: {port}
    starttls: false
    sender: scanner@lab.example.org
    recipients: [analyst@lab.example.org, lead@lab.example.org]
{extra}""")


def seed(store: Store) -> None:
    fx.insert_sources(store)
    rows = fx.load_thaigov()[:2]
    for row in rows:
        fx.insert_item(store, "thaigov", row["title"], "2025-03-18T03:00:00+00:00", row["url"])


def test_due_digest_is_emailed_once_as_html_with_markdown_text(store: Store, tmp_path: Path,
                                                                smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    config = email_config(tmp_path, port)
    seed(store)
    result = write_due_digest(config, store, NOW)
    assert result is not None and result.emailed
    assert not result.email_failed and result.exit_code == 0
    assert result.lines[-1] == "digest 2025-W12: e-mailed to 2 recipient(s)"
    assert len(inbox.messages) == 1
    sender, rcpts, msg = inbox.messages[0]
    assert sender == "scanner@lab.example.org"
    assert rcpts == ["analyst@lab.example.org", "lead@lab.example.org"]
    assert msg["Subject"] == "Horizon scan 2025-W12: 0 new, 0 weak, 0 strong signals (2 items)"
    assert msg.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
             for p in msg.get_payload()}
    assert parts["text/plain"] == (tmp_path / "reports" / "2025-W12.md").read_text(encoding="utf-8")
    assert parts["text/html"] == (tmp_path / "reports" / "2025-W12.html").read_text(encoding="utf-8")
    assert store.query("SELECT emailed_at FROM digests")[0]["emailed_at"] == "2025-03-24T01:00:00+00:00"
    assert write_due_digest(config, store, NOW) is None
    assert len(inbox.messages) == 1


def test_failed_delivery_keeps_the_digest_and_is_retried(store: Store, tmp_path: Path,
                                                         smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    dead = free_port()
    seed(store)
    result = write_due_digest(email_config(tmp_path, dead), store, NOW)
    assert result is not None and not result.emailed
    assert result.email_failed and result.exit_code == 1
    assert result.lines[-1].startswith(
        f"digest 2025-W12: e-mail FAILED: could not send the digest via 127.0.0.1:{dead}: ")
    assert (tmp_path / "reports" / "2025-W12.html").exists()
    assert store.query("SELECT emailed_at FROM digests")[0]["emailed_at"] is None
    retry = write_due_digest(email_config(tmp_path, port), store, NOW)
    assert retry is not None and retry.emailed and len(inbox.messages) == 1
    assert not retry.email_failed and retry.exit_code == 0


def test_starttls_required_but_not_offered_is_a_clear_error(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    config = email_config(tmp_path, port).digest.email.model_copy(update={"starttls": True})
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        send_digest_email(config, "s", "<p>h</p>", "t")


def test_missing_password_variable_says_what_to_set(tmp_path: Path, smtp: tuple[Inbox, int],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _, port = smtp
    monkeypatch.delenv("SCANNER_SMTP_PASSWORD", raising=False)
    cfg = email_config(tmp_path, port, "    user: scanner\n    password_env: SCANNER_SMTP_PASSWORD\n").digest.email
    with pytest.raises(DeliveryError, match="export SCANNER_SMTP_PASSWORD="):
        send_digest_email(cfg, "s", "<p>h</p>", "t")


def test_write_digest_does_not_email_unless_asked(store: Store, tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    seed(store)
    result = write_digest(email_config(tmp_path, port), store, "2025-W12", NOW)
    assert not result.emailed and not result.email_failed and inbox.messages == []
