"""One real Synapse per test session (and pytest-xdist worker), and a `citypeers run` with Matrix settings only.

Each test registers its own people and its own bot account, so tests share the homeserver without meeting; the bot's
messages are unlimited (Synapse's admin API, as an operator does for a bot) unless a test keeps Synapse's default
limits on purpose (`limited=True`)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.matrix.client import Person
from tests.matrix.synapse import Registered, Synapse
from tests.support.botprocess import SETTINGS_PREFIXES, free_port


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    server = Synapse(tmp_path_factory.mktemp("synapse")).start()
    server.admin = server.register("admin", admin=True)  # type: ignore[attr-defined]
    yield server
    server.stop()


class MatrixProcess:
    """A real `citypeers run` with Matrix's settings only; its store and database live in `workdir`, kept across
    restarts (`stop()` then `start()`)."""

    def __init__(self, synapse: Synapse, bot: Registered, database_url: str, *, admins: str = "", **settings: str):
        self.synapse = synapse
        self.bot = bot
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="citypeers-matrix-"))
        self.log_path = self.workdir / "citypeers.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith((*SETTINGS_PREFIXES, "MATRIX_"))},
            "MATRIX_HOMESERVER": synapse.url,
            "MATRIX_USER_ID": bot.user_id,
            "MATRIX_PASSWORD": bot.password,
            "MATRIX_STORE": str(self.workdir / "matrix-store.db"),
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CITYPEERS_MATRIX_ADMINS": admins,
            "CITYPEERS_LOG_LEVEL": "INFO",
            "CITYPEERS_SEND_PER_SECOND": "50",
            "CITYPEERS_SWEEP_SECONDS": "1",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> MatrixProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)  # waiting for a process to start; nothing is timed here
        raise AssertionError(f"citypeers run did not become healthy:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def __enter__(self) -> MatrixProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@pytest.fixture
def people(synapse):
    """`people("alice", "bruno")`: new users of the homeserver, each a Person (a client of their own)."""

    def make(*names: str) -> list[Person]:
        return [Person(synapse.url, synapse.register()) for _ in names]

    return make


@pytest.fixture
def bot_account(synapse):
    account = synapse.register()
    synapse.unlimit(synapse.admin.access_token, account.user_id)
    return account
