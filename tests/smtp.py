"""A real SMTP server for the email tests (aiosmtpd, on a free loopback port), keeping what it
receives: mails go through Django's SMTP backend exactly as they would to a provider."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Mail:
    sender: str
    to: list[str]
    subject: str
    body: str


class Inbox:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.mails: list[Mail] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        mail = Mail(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            str(message["subject"]),
            body.get_content() if body else "",
        )
        with self.cond:
            self.mails.append(mail)
            self.cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, timeout: float = 30.0) -> Mail:
        """The first mail to `to`, once it has arrived; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in self.mails if to in m.to]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                assert left > 0, f"no mail to {to} within {timeout} s: {self.mails}"
                self.cond.wait(left)


def start(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox
