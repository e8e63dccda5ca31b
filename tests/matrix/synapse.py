"""A real Synapse homeserver for the tests: offline, on SQLite, users registered with its shared secret.

`Synapse.start(directory)` writes a configuration (no federation, no key servers, no metrics), starts
`synapse.app.homeserver` in a subprocess on a free port of 127.0.0.1 and waits until it answers. A fresh database
and all: about two seconds here. tests/matrix/conftest.py starts one homeserver per session and pytest-xdist worker,
and each test registers users of its own, so tests share it without meeting.

Rate limits: messages keep Synapse's defaults (0.2 a second, bursts of 10), which is what a bot meets on a
homeserver it does not administer; everything else a test does many times (registering, logging in, creating rooms,
inviting, joining) is generous. A test lifts the message limit for one user with `unlimit(user)` (Synapse's admin
API, as an operator would for a bot), so only the test about rate limits waits them out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_NAME = "synapse.test"
SHARED_SECRET = "citypeers-test-registration"
GENEROUS = {"per_second": 1000, "burst_count": 1000}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config(directory: Path, port: int) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": SHARED_SECRET,
        "macaroon_secret_key": "citypeers-test-macaroon",
        "form_secret": "citypeers-test-form",
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_metrics": False,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "rc_message": {"per_second": 0.2, "burst_count": 10},  # Synapse's defaults, said out loud
        "rc_room_creation": GENEROUS,
        "rc_registration": GENEROUS,
        "rc_login": {"address": GENEROUS, "account": GENEROUS, "failed_attempts": GENEROUS},
        "rc_joins": {"local": GENEROUS, "remote": GENEROUS},
        "rc_joins_per_room": GENEROUS,
        "rc_invites": {"per_room": GENEROUS, "per_user": GENEROUS, "per_issuer": GENEROUS},
        "rc_key_requests": GENEROUS,
        "rc_admin_redaction": GENEROUS,
        "rc_3pid_validation": GENEROUS,
        "rc_delayed_event_mgmt": GENEROUS,
    }


LOG_CONFIG = """version: 1
formatters:
  precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: precise, filename: LOGFILE}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


@dataclass
class Registered:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0

    def start(self, *, timeout: float = 90.0) -> Synapse:
        import yaml
        from signedjson.key import generate_signing_key, write_signing_keys

        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "media").mkdir(exist_ok=True)
        (self.directory / "log.yaml").write_text(LOG_CONFIG.replace("LOGFILE", str(self.directory / "homeserver.log")))
        if not (self.directory / "signing.key").exists():
            with (self.directory / "signing.key").open("w") as out:
                write_signing_keys(out, [generate_signing_key("a_test")])
        (self.directory / "homeserver.yaml").write_text(yaml.safe_dump(config(self.directory, self.port)))
        with (self.directory / "stdout.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.directory / "homeserver.yaml")],
                cwd=self.directory,
                stdout=log,
                stderr=log,
                env={**os.environ, "SYNAPSE_ASYNC_IO_REACTOR": "0"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"Synapse stopped at start:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as answer:
                    if answer.status == 200:
                        self.started_in = time.monotonic() - started
                        return self
            except OSError:
                pass
            time.sleep(0.1)  # waiting for a process to start; nothing is timed here
        raise AssertionError(f"Synapse did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.directory / name
            if path.exists():
                text += path.read_text(errors="replace")[-4000:]
        return text

    # --- the admin side ------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise MatrixHTTPError(error.code, error.read().decode(errors="replace")) from None

    def register(self, localpart: str | None = None, *, admin: bool = False) -> Registered:
        """A new user through the shared-secret registration (`register_new_matrix_user` does the same)."""
        localpart = localpart or f"u{secrets.token_hex(5)}"
        password = secrets.token_urlsafe(12)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return Registered(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def unlimit(self, admin_token: str, user_id: str) -> None:
        """No message rate limit for this user (the admin API an operator uses for a bot)."""
        quoted = urllib.parse.quote(user_id)
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{quoted}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=admin_token,
        )

    def limit(self, admin_token: str, user_id: str) -> None:
        """The user's messages under the homeserver's own limits again."""
        quoted = urllib.parse.quote(user_id)
        self.request("DELETE", f"/_synapse/admin/v1/users/{quoted}/override_ratelimit", token=admin_token)

    def devices(self, admin_token: str, user_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(user_id)
        return list(self.request("GET", f"/_synapse/admin/v2/users/{quoted}/devices", token=admin_token)["devices"])


class MatrixHTTPError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:300]}")
        self.status = status
        self.body = body
