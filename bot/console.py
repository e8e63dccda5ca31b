"""The terminal adapter: the same handlers as Slack, replies rendered as plain text.

Interactive (with line editing and history) when standard input is a terminal; otherwise it reads one
command a line, prints each command (`@you> /city show Brno`) before its reply, so a transcript reads like a
session, and exits 1 when any command failed, so scripts can stop on it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.delivery import Arrival, DeliveryEngine, Outgoing, Pacer, SendOutcome
from core.grammar import parse_user_ref, split_first
from core.text import Mention, Text, strip_markup
from handlers.dispatch import handle
from handlers.home import home
from handlers.types import Attachment, Reply, Request, Services
from storage.db import unit_of_work

log = logging.getLogger(__name__)
HISTORY = Path.home() / ".citypeers_history"
_MENTION_IN_COMMAND = re.compile(r"<@([^|>\s]+)(?:\|[^>]*)?>")
CONSOLE_HELP = (
    "Type a command such as /city help, /city show Brno or /city list track=tourism; /home shows your city, goals,\n"
    "next events and matches as Slack's Home tab does. Console only: /as @name switches who you are, /quit leaves."
)


def show_value(value: object) -> str:
    return f"@{value.name}" if isinstance(value, Mention) else str(value)


def render_text(text: Text) -> str:
    return text.render(show_value, strip_markup)


def render_reply(reply: Reply) -> str:
    """A reply as terminal lines; buttons show the command they stand for."""
    lines = [reply.title] if reply.title else []
    for section in reply.sections:
        lines.append(render_text(section.text))
        lines.extend(f"  [{button.label}] {console_command(button.command)}" for button in section.buttons)
    text = "\n".join(lines)
    return f"error: {text}" if reply.error else text


def console_command(command: str) -> str:
    """Buttons name people Slack's way (`<@bob>`); the console types them `@bob`."""
    return _MENTION_IN_COMMAND.sub(lambda match: "@" + match.group(1), command)


def render_message(message: Outgoing) -> str:
    """A message for someone else, as the console shows it: `→ to @bob: …`."""
    if message.recipient_kind == "channel":
        names = f"#{message.recipient}"
    else:
        names = ", ".join(f"@{recipient}" for recipient in message.recipient.split(","))
    body = render_reply(message.reply).replace("\n", "\n    ")
    together = " (together)" if message.recipient_kind == "group" else ""
    return f"  → to {names}{together}: {body}"


class ConsoleSender:
    """The console's half of delivery: messages for other people are printed where everyone at the terminal
    sees them. Nothing printed can be lost in between, so a retaken message has not arrived."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, message: Outgoing) -> SendOutcome:
        print(render_message(message), file=self.out, flush=True)
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        return Arrival.ABSENT


def named_as_saved(text: str, attachment: Attachment, saved: Path) -> str:
    """A reply names the file it made (`… to goals-2026-12-07.csv.`); when that name was taken and the file was
    saved as `goals-2026-12-07-2.csv`, the reply says so."""
    if saved.name == attachment.filename:
        return text
    pattern = re.compile(rf"(?<![\w.-]){re.escape(attachment.filename)}(?![\w-])")
    return pattern.sub(lambda _mention: saved.name, text)


def save_file(attachment: Attachment, directory: Path) -> Path:
    """Write a reply's file next to the user, never over an existing one (`chart.png`, `chart-2.png`, …)."""
    name = Path(attachment.filename).name  # a file name only: nothing a reply says can write elsewhere
    path = directory / name
    stem, suffix = path.stem, path.suffix
    number = 1
    while path.exists():
        number += 1
        path = directory / f"{stem}-{number}{suffix}"
    path.write_bytes(attachment.content)
    return path


class Console:
    """Runs lines typed by one user at a time; `/as @name` changes the user."""

    def __init__(self, services: Services, user: str, out: TextIO, *, echo: bool = False) -> None:
        self.services = services
        self.user = user.lstrip("@")
        self.out = out
        self.echo = echo  # print each line as a prompt would show it, before its reply (scripted sessions)
        self.failed = False  # any command answered with an error
        # What a command tells other people goes through the delivery ledger, as in Slack; here it is printed
        # right after the reply (and so is a reminder that fell due meanwhile).
        self.delivery = DeliveryEngine(
            services,
            ConsoleSender(out),
            worker=f"console:{uuid.uuid4().hex[:6]}",
            pacer=Pacer(per_channel=0, per_second=0),
        )

    def run_line(self, line: str) -> bool:
        """Answer one line; False when the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if self.echo:
            self._print(f"@{self.user}> {line}")
        word, _, rest = line.lstrip("/").partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        if word == "as":
            self._switch(rest)
        elif word == "help" and not rest.strip():
            self._print(CONSOLE_HELP)
        elif word == "home":
            self._answer("home", rest, lambda: home(self.services, user_id=self.user, user_name=self.user, tz=None))
        else:
            self._command(word, rest)
        return True

    def _switch(self, rest: str) -> None:
        ref = parse_user_ref(rest.strip()) if rest.strip() else None
        if ref is None:
            self._fail("Expected: /as @name")
            return
        self.user = ref.user_id
        self._print(f"You are now @{self.user}.")

    def _command(self, family: str, rest: str) -> None:
        # `/help city` and a mistyped family (`/cty`, answered with the one meant) go to the dispatcher too.
        request = Request(user_id=self.user, user_name=self.user, command=family, text=rest)
        self._answer(family, rest, lambda: handle(self.services, request))

    def _answer(self, family: str, rest: str, ask: Callable[[], Reply]) -> None:
        try:
            reply = ask()
        except Exception:  # one line for the user, the details for the log
            ref = uuid.uuid4().hex[:6]
            # The command's name only: what follows it is people's text (a goal, a message), kept out of logs.
            name = split_first(rest)[0][:20]
            log.exception("command failed (ref %s): /%s %s", ref, family, name)
            self._fail(f"Something went wrong on our side; nothing was changed (ref {ref}).")
            return
        self.failed = self.failed or reply.error
        text = render_reply(reply)
        saved = []
        for attachment in reply.files:
            try:
                path = save_file(attachment, Path.cwd())
            except OSError as error:
                saved.append(f"error: Could not save {attachment.filename}: {error.strerror or error}.")
                self.failed = True
                continue
            text = named_as_saved(text, attachment, path)
            saved.append(f"  saved {path}")
        self._print("\n".join([text, *saved]))
        self._deliver()

    def _deliver(self) -> None:
        """Print what the command told other people (and reminders that fell due); a failure here is logged and
        told in one line, and the console carries on."""
        try:
            self.delivery.run_due()
        except Exception:
            ref = uuid.uuid4().hex[:6]
            log.exception("delivering messages failed (ref %s)", ref)
            self._fail(f"Something went wrong telling others; they may not have been told (ref {ref}).")

    def _fail(self, text: str) -> None:
        self.failed = True
        self._print(f"error: {text}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def run_console(
    settings: Settings,
    *,
    user: str,
    demo: bool,
    lines: Iterable[str] | None = None,
    started: Callable[[], None] | None = None,
) -> int:
    """`started` is called once the console is ready, before the first line is read."""
    from bot.app import build_services

    services = build_services(settings, first_user_is_admin=True)
    if demo:
        from bot.demo import load_demo

        with unit_of_work(services.engine) as session:
            added = load_demo(session=session, now=services.clock.now())
        if added and sys.stdin.isatty():
            print(f"Loaded {added} sample cities.")
    interactive = lines is None and sys.stdin.isatty()
    console = Console(services, user, sys.stdout, echo=not interactive)
    if started is not None:
        started()
    if interactive:
        _interactive(console)
    else:
        for line in lines if lines is not None else sys.stdin:
            if not console.run_line(line):
                break
    services.engine.dispose()
    # Typed by hand, an error is read and answered; in a script it must stop what comes next.
    return 1 if console.failed and not interactive else 0


def _interactive(console: Console) -> None:
    import readline  # noqa: F401  (line editing and history for input())

    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    print("CityPeers console. " + CONSOLE_HELP)
    try:
        while True:
            try:
                line = input(f"@{console.user}> ")
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                print()
                continue
            if not console.run_line(line):
                break
    finally:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)
