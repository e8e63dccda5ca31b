"""A real `citypeers run` in a subprocess, pointed at a fake Slack: for end-to-end tests and benches."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.fakeslack import FakeSlack, SlackSender

SECRET = "process-signing-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SETTINGS_PREFIXES = ("SLACK_", "DISCORD_", "CITYPEERS_", "DATABASE_URL")


class BotProcess:
    """`with BotProcess(slack, database_url, admins="U0ADMIN") as bot:` … `bot.sender.command(...)`."""

    def __init__(self, slack: FakeSlack, database_url: str, *, admins: str = "", **settings: str) -> None:
        self.slack = slack
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="citypeers-run-"))  # no developer .env is read here
        self.log_path = self.workdir / "citypeers.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)},
            "SLACK_BOT_TOKEN": "xoxb-process",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CITYPEERS_ADMINS": admins,
            "CITYPEERS_LOG_LEVEL": "INFO",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.sender = SlackSender(f"http://127.0.0.1:{self.port}", SECRET, slack)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> BotProcess:
        if self.process is not None and self.process.poll() is None:
            return self  # already running (`with` on a started process): never a second, orphaned one
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.sender.get("/healthz").status == 200:
                    return self
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)  # waiting for a process to start; nothing is timed here
        raise AssertionError(f"citypeers run did not become healthy:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class DiscordProcess(BotProcess):
    """A real `citypeers run` with Discord's settings only, pointed at a fake Discord; `interactions` signs for it:
    `with DiscordProcess(discord, interactions, database_url, admins="…") as bot:` … `bot.interactions.command(…)`."""

    def __init__(self, discord, interactions, database_url: str, *, admins: str = "", **settings: str) -> None:  # type: ignore[no-untyped-def]
        self.slack = None  # type: ignore[assignment]
        self.discord = discord
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="citypeers-run-"))
        self.log_path = self.workdir / "citypeers.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)},
            "DISCORD_APPLICATION_ID": discord.application_id,
            "DISCORD_PUBLIC_KEY": interactions.public_key_hex,
            "DISCORD_BOT_TOKEN": "discord-process-token",
            "DISCORD_API_URL": discord.api_url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CITYPEERS_DISCORD_ADMINS": admins,
            "CITYPEERS_LOG_LEVEL": "INFO",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.interactions = interactions
        interactions.url = f"http://127.0.0.1:{self.port}/discord/interactions"
        self.sender = SlackSender(f"http://127.0.0.1:{self.port}", SECRET, None)  # for GET /healthz only
        self.process = None


class PlainProcess(BotProcess):
    """A real `citypeers run` with no chat platform's settings: the dashboard, calendar feeds and /healthz alone.
    `public_url` is where its links point (CITYPEERS_PUBLIC_URL), for a console writing to the same database."""

    def __init__(self, database_url: str, **settings: str) -> None:
        self.slack = None  # type: ignore[assignment]
        self.port = free_port()
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="citypeers-run-"))
        self.log_path = self.workdir / "citypeers.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)},
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CITYPEERS_PUBLIC_URL": self.public_url,
            "CITYPEERS_LOG_LEVEL": "INFO",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.sender = SlackSender(self.public_url, SECRET, None)  # for plain GETs only
        self.process = None
