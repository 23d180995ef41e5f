"""A real SMTP server for the tests: aiosmtpd on a loopback port, recording what it accepts.

It can be stopped and started again on the same port, answer a recipient with a chosen code
(451 now, 550 for good), drop the connection in the middle of a message, and ask for a login.
"""

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"


@dataclass
class Received:
    """A message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server and what it received; `answers` scripts the replies to recipients."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.port = free_port()
        self.login = login
        self.received: list[Received] = []
        #: Address -> replies to give its next RCPT commands, one each; then it is accepted.
        self.answers: dict[str, list[str]] = {}
        #: Address whose next RCPT makes the server drop the connection and stop.
        self.die_at: str | None = None
        self.logins: list[str] = []
        self.controller: Controller | None = None
        self._stopper: threading.Thread | None = None

    def start(self) -> None:
        kwargs = {}
        if self.login is not None:
            kwargs = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
            }
        self.controller = Controller(
            self, hostname=HOST, port=self.port, server_hostname="smtp.test", **kwargs
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_stopped(self) -> None:
        """Wait until a server that went away by itself (`die_at`) has stopped listening."""
        if self._stopper is not None:
            self._stopper.join(10)
            self._stopper = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def to(self, address: str) -> list[Received]:
        """Return the accepted messages addressed to `address`."""
        return [item for item in self.received if address in item.rcpt_tos]

    # aiosmtpd's handler hooks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.die_at:
            self.die_at = None
            server.transport.close()
            self._stopper = threading.Thread(target=self.stop)
            self._stopper.start()
            return "421 4.3.2 going away"
        replies = self.answers.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode()
        password = auth_data.password.decode()
        if (user, password) == self.login:
            self.logins.append(user)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
