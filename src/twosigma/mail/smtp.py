"""Handing one message to the SMTP server (aiosmtplib), telling apart the failures that mean "not sent".

The conversation runs step by step (connect, STARTTLS, AUTH, MAIL, RCPT, DATA) so that a failure is classified by
where it happened:
- before DATA, or a reply to DATA refusing the message: the server did not take it; safe to try again (a 5xx
  reply is permanent, anything else is retried);
- the connection lost or timed out *during* DATA: the server may have taken it. `OutcomeUnknown`: the worker must
  not send it again (a second copy would be a duplicate), so it is failed with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    from_address: str


class DeliveryFailed(Exception):
    """The server did not take the message."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class OutcomeUnknown(Exception):
    """The connection ended during DATA: the server may or may not have taken the message."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"SMTP {exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


async def send(config: SmtpConfig, message: EmailMessage) -> None:
    client = aiosmtplib.SMTP(hostname=config.host, port=config.port, start_tls=config.starttls, timeout=TIMEOUT_SECONDS)
    recipient = str(message["To"])
    try:
        await client.connect()
        if config.username:
            await client.login(config.username, config.password or "")
        await client.mail(config.from_address)
        await client.rcpt(recipient)
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryFailed(_describe(exc), permanent=500 <= exc.code < 600) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise DeliveryFailed(_describe(exc), permanent=False) from exc
    try:
        await client.data(message.as_bytes())
    except aiosmtplib.SMTPResponseException as exc:
        # A reply to DATA: the server said no, so nothing was taken.
        raise DeliveryFailed(_describe(exc), permanent=500 <= exc.code < 600) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise OutcomeUnknown(_describe(exc)) from exc
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
