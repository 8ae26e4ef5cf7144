"""The mail tests' SMTP server, the settings that point the worker at it, and draining the outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.smtp import SmtpServer, free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_settings(monkeypatch: pytest.MonkeyPatch, smtp_port: int) -> int:
    """Point the mail settings (mail.*, through their environment variables) at 127.0.0.1:`smtp_port`."""
    monkeypatch.setenv("TWOSIGMA_MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TWOSIGMA_MAIL_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("TWOSIGMA_MAIL_SMTP_STARTTLS", "false")
    monkeypatch.setenv("TWOSIGMA_MAIL_FROM_ADDRESS", "noreply@twosigma.example")
    return smtp_port


@pytest.fixture
def smtp(smtp_settings: int) -> Iterator[SmtpServer]:
    """A running SMTP server the worker sends to."""
    server = SmtpServer(smtp_settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_down(smtp_settings: int) -> Iterator[SmtpServer]:
    """The configured SMTP server, not running yet (`.start()` it to bring it up)."""
    server = SmtpServer(smtp_settings)
    try:
        yield server
    finally:
        server.stop()
