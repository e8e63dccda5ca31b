"""POST /discord/interactions: Discord's HTTP interactions, verified, answered within 3 seconds, run by the same
handlers as Slack and the console.

Every request is checked against the application's Ed25519 public key (Discord sends bad signatures on purpose and
removes an endpoint that accepts them): a bad or missing signature gets 401. The signature stops no replay, so an
interaction signed or created (its id is a snowflake) over five minutes ago gets 401 too, and one whose id was
handled already, by this process or another (the ids are kept in the shared seen_event table), is answered 401 and
not run again. A PING gets a PONG. A slash command or a form is acknowledged at once with a deferred, ephemeral
answer, then run on a worker thread; its reply replaces the deferred answer through the interaction's webhook (files
as attachments). A button on the presser's own message (ephemeral, or in their DM with the bot) is acknowledged as a
deferred update and its reply replaces that message (so nobody presses Approve twice); a button on a message others
see too (a channel reminder) gets a new ephemeral answer for the presser alone, and the shared message stays as it
was. A button that needs more answers opens its form as a Discord modal. Autocomplete offers city names and tracks
as they are typed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.discord import render as discord_render
from bot.discord.api import DiscordClient, DiscordError, File
from bot.discord.commands import HOME, Invocation, canonical_line, focused_option, typed_invocation
from bot.discord.render import COMMAND, FORM, Message
from core import i18n
from core.i18n import N_, Language
from handlers import languages, stored_commands
from handlers.dispatch import FAMILIES, handle
from handlers.forms import FORMS, Choices, Form
from handlers.home import autocomplete, home, track_choices
from handlers.types import Button, Kind, Reply, Request, Services
from storage import seen_events
from storage.db import unit_of_work

log = logging.getLogger(__name__)

INTERACTIONS_PATH = "/discord/interactions"
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, CHOICES, MODAL = 1, 4, 5, 6, 8, 9
EPHEMERAL = 64
DM_CHANNEL = 1  # a channel's type: a DM between one person and the bot
MAX_AGE = 300  # seconds: an interaction signed or created longer ago is refused (a replay), as Slack does
DISCORD_EPOCH_MS = 1420070400000
SEEN_PREFIX = "discord:"  # interaction ids in the seen_event table, apart from Slack's event ids
MAX_BODY = 64 * 1024  # Discord's interactions are small; anything bigger is not from Discord
MODAL_TITLE_CHARS = 45
INPUT_LABEL_CHARS = 45
MAX_CHOICES = 25
LISTS = {Kind.TRACKS: ", ", Kind.CITIES: ";"}  # how a list parameter's items are joined
# Mentions as Discord writes them in text a person typed (the escape hatch): users, nicknames, channels.
_USER_MENTION = re.compile(r"<@!?(\d{1,25})>")
_CHANNEL_MENTION = re.compile(r"<#(\d{1,25})>")
_UNNAMED_CHANNEL = re.compile(r"<#discord:(\d{1,25})>")
_CHANNEL_NAME = re.compile(r"[^|<>\s]{1,100}")


class Strings:
    FAILED = N_("Something went wrong on our side; nothing was changed (ref {ref}).")
    UNKNOWN_BUTTON = stored_commands.UNKNOWN_BUTTON


def verifier(public_key_hex: str) -> Callable[[bytes, str, str], bool]:
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))

    def verify(body: bytes, signature: str, timestamp: str) -> bool:
        try:
            key.verify(bytes.fromhex(signature), timestamp.encode() + body)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify


def snowflake_time(snowflake: str) -> float | None:
    """When a Discord id was made, in unix seconds (its top 42 bits are milliseconds since Discord's epoch)."""
    if not snowflake.isdecimal() or len(snowflake) > 20:
        return None
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def discord_line(text: str) -> str:
    """A command line a person typed in Discord with the platform's mentions made neutral."""
    text = _USER_MENTION.sub(lambda m: f"<@discord:{m.group(1)}>", text)
    return _CHANNEL_MENTION.sub(lambda m: f"<#discord:{m.group(1)}>", text)


class Interactions:
    """The WSGI endpoint and the work it hands to its threads."""

    def __init__(
        self,
        services: Services,
        client: DiscordClient,
        *,
        application_id: str,
        public_key: str,
        workers: int = 16,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.services = services
        self.now = now  # wall-clock seconds, as Discord signs and dates interactions
        self.client = client
        self.application_id = application_id
        self.verify = verifier(public_key)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="discord")
        self._channel_names: dict[str, str | None] = {}
        self._names_lock = threading.Lock()

    # --- the HTTP side: answer within three seconds -----------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return _answer(start_response, "400 Bad Request", {"error": "bad request"})
        body = environ["wsgi.input"].read(length)
        signature = environ.get("HTTP_X_SIGNATURE_ED25519", "")
        timestamp = environ.get("HTTP_X_SIGNATURE_TIMESTAMP", "")
        if not signature or not timestamp or not self.verify(body, signature, timestamp):
            return _answer(start_response, "401 Unauthorized", {"error": "invalid request signature"})
        # The signature stops no replay: a captured interaction is refused once it is old, or already handled.
        if not self._fresh_timestamp(timestamp):
            log.warning("an interaction signed at %r, outside the %d s window: refused", timestamp[:20], MAX_AGE)
            return _answer(start_response, "401 Unauthorized", {"error": "stale request"})
        try:
            interaction = json.loads(body)
            if not isinstance(interaction, dict):
                raise TypeError("an interaction is an object")
            if not self._fresh_id(interaction):
                log.warning("interaction %s was created over %d s ago: refused", interaction.get("id"), MAX_AGE)
                return _answer(start_response, "401 Unauthorized", {"error": "stale request"})
            if not self._first_sighting(interaction):
                log.warning("interaction %s was already handled: not run again", interaction.get("id"))
                return _answer(start_response, "401 Unauthorized", {"error": "interaction already handled"})
            answer = self.answer(interaction)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("a signed interaction we cannot read", exc_info=True)
            return _answer(start_response, "400 Bad Request", {"error": "bad request"})
        return _answer(start_response, "200 OK", answer)

    def _fresh_timestamp(self, timestamp: str) -> bool:
        """X-Signature-Timestamp (unix seconds) within MAX_AGE of now, either way."""
        try:
            signed_at = float(timestamp)
        except ValueError:
            return False
        return abs(self.now() - signed_at) <= MAX_AGE

    def _fresh_id(self, interaction: dict[str, Any]) -> bool:
        """The interaction's id is a snowflake that holds when Discord created it: at most MAX_AGE ago."""
        created = snowflake_time(str(interaction.get("id", "")))
        return created is not None and self.now() - created <= MAX_AGE

    def _first_sighting(self, interaction: dict[str, Any]) -> bool:
        """Record the interaction's id in the table every process shares; False when it was handled before.
        PINGs and autocomplete run nothing and change nothing, so their ids are not kept."""
        if interaction.get("type") in (PING, AUTOCOMPLETE):
            return True
        event_id = f"{SEEN_PREFIX}{interaction['id']}"
        with unit_of_work(self.services.engine) as session:
            return seen_events.first_sighting(session=session, event_id=event_id, now=self.services.clock.now())

    def answer(self, interaction: dict[str, Any]) -> dict[str, Any]:
        kind = interaction.get("type")
        if kind == PING:
            return {"type": PONG}
        if kind == APPLICATION_COMMAND:
            data = interaction.get("data") or {}
            invocation = typed_invocation(data, FAMILIES)
            if invocation is not None:  # its values as Discord typed them, never turned back into a line
                # People and channels Discord writes into a text (`<@id>`) carry the platform, as in a line.
                neutral = {k: discord_line(v) if isinstance(v, str) else v for k, v in invocation.values.items()}
                invocation = Invocation(invocation.family, invocation.subcommand, neutral)
                self.executor.submit(self._run, interaction, invocation)
                return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
            line = canonical_line(data, FAMILIES)
            self.executor.submit(self._run, interaction, discord_line(line))
            return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
        if kind == MESSAGE_COMPONENT:
            custom_id = str((interaction.get("data") or {}).get("custom_id", ""))
            if custom_id.startswith(FORM):
                name, _, rest = custom_id[len(FORM) :].partition(":")
                form = FORMS.get(name)
                if form is not None:
                    with i18n.reading(self.reader(interaction)):  # the form in the presser's language
                        return {"type": MODAL, "data": self.modal(form, name, self._command_of(rest) or "")}
            pressed = self._command_of(custom_id)
            if pressed is None:
                refused = Reply.fail(Strings.UNKNOWN_BUTTON).localize(self.reader(interaction))
                return {"type": MESSAGE, "data": self.render(refused).payload(ephemeral=True)}
            self.executor.submit(self._run, interaction, pressed)
            if is_own_message(interaction):
                return {"type": DEFERRED_UPDATE}  # the presser's own message: the outcome replaces it
            # A message others see too: the presser gets a new answer of their own; the shared one stays.
            return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
        if kind == AUTOCOMPLETE:
            return {"type": CHOICES, "data": {"choices": self.choices(interaction.get("data") or {})}}
        if kind == MODAL_SUBMIT:
            data = interaction.get("data") or {}
            name, _, key = str(data.get("custom_id", "")).partition(":")
            form = FORMS.get(name)
            if form is None:
                refused = Reply.fail(Strings.UNKNOWN_BUTTON).localize(self.reader(interaction))
                return {"type": MESSAGE, "data": self.render(refused).payload(ephemeral=True)}
            line = form.build(_modal_answers(data), key)
            self.executor.submit(self._run, interaction, line, form)
            return {"type": DEFERRED_MESSAGE, "data": {"flags": EPHEMERAL}}
        raise ValueError(f"interaction type {kind!r}")

    # --- the slow side: run the command, then replace the deferred answer -------------------------------

    def _run(self, interaction: dict[str, Any], line: str | Invocation, form: Form | None = None) -> None:
        token = str(interaction.get("token", ""))
        try:
            reply = self.run_line(interaction, line)
            if form is not None and reply.error:
                # Discord's modals cannot show a mistake next to a field: the answer names it instead.
                with i18n.reading(reply.language or self.reader(interaction)):
                    label = next((str(f.label) for f in form.fields if f.id == form.field_for(reply.error_field)), "")
                reply.sections[0].text.values["line"] = f"{label}: {reply.plain()}" if label else reply.plain()
            self.edit_original(token, reply)
        except Exception:  # the one place unexpected errors go: logged with a reference, told in one line
            ref = secrets.token_hex(3)
            log.exception("unexpected error ref=%s in a Discord interaction", ref)
            try:
                failed = Reply.fail(Strings.FAILED, ref=ref)
                with contextlib.suppress(Exception):  # the database may be what failed: the English line, then
                    failed = failed.localize(self.reader(interaction))
                self.edit_original(token, failed)
            except DiscordError as failure:
                log.warning("could not tell the user about ref=%s: %s", ref, failure)

    def reader(self, interaction: dict[str, Any]) -> Language:
        """The language the presser reads, for what this adapter writes itself (a form, a refusal, a failure)."""
        person = (interaction.get("member") or {}).get("user") or interaction.get("user") or {}
        return languages.of_person(self.services, f"discord:{person.get('id', '')}", interaction.get("locale"))

    def run_line(self, interaction: dict[str, Any], line: str | Invocation) -> Reply:
        person = (interaction.get("member") or {}).get("user") or interaction.get("user") or {}
        user_id = f"discord:{person.get('id', '')}"
        name = str(person.get("global_name") or person.get("username") or person.get("id", ""))
        locale = interaction.get("locale")
        if isinstance(line, Invocation):
            typed = Request(
                user_id=user_id,
                user_name=name,
                command=line.family,
                text="",
                locale=locale,
                subcommand=line.subcommand,
                values=line.values,
            )
            return self.services.meter.measure(line.family, lambda: handle(self.services, typed))
        if line == f"/{HOME}":
            return home(self.services, user_id=user_id, user_name=name, tz=None, locale=locale)
        family, _, text = self.with_channel_names(line).strip().lstrip("/").partition(" ")
        request = Request(user_id=user_id, user_name=name, command=family, text=text, tz=None, locale=locale)
        return self.services.meter.measure(family, lambda: handle(self.services, request))

    def with_channel_names(self, line: str) -> str:
        """A line's channel mentions with their names (`<#discord:123|city-labs>`), as Slack writes them and as a
        typed CHANNEL option brings them: a Discord mention in text carries only the id, so a channel named in a
        line would otherwise be kept and shown by its number. Each channel is asked once."""

        def named(match: re.Match[str]) -> str:
            channel = match.group(1)
            with self._names_lock:
                known = channel in self._channel_names
                name = self._channel_names.get(channel)
            if not known:
                try:
                    found = self.client.request("GET", f"/channels/{channel}") or {}
                except DiscordError:  # not a channel the bot can see: the line says what it can
                    found = {}
                given = str(found.get("name") or "")
                name = given if _CHANNEL_NAME.fullmatch(given) else None
                with self._names_lock:
                    self._channel_names[channel] = name
            return f"<#discord:{channel}|{name}>" if name else match.group(0)

        return _UNNAMED_CHANNEL.sub(named, line)

    def edit_original(self, token: str, reply: Reply) -> None:
        message = self.render(reply)
        files = [File(f.filename, f.content, f.mime_type) for f in reply.files]
        if files:
            body = message.payload()
            body["attachments"] = [{"id": index, "filename": f.filename} for index, f in enumerate(files)]
        else:
            body = message.payload()
        self.client.request(
            "PATCH",
            f"/webhooks/{self.application_id}/{token}/messages/@original",
            body=body,
            files=files,
            auth=False,
            retries=3,
        )

    # --- buttons, forms, choices -----------------------------------------------------------------------

    def render(self, reply: Reply) -> Message:
        return discord_render.render(reply, custom_id=self.custom_id)

    def custom_id(self, button: Button) -> str:
        """`c:<command>` when it fits Discord's 100 characters, else `s:<id>` of the command stored server-side;
        `f:<form>:` before either for a button that opens a form first."""
        form = f"{FORM}{button.form}:" if button.form else ""
        limit = discord_render.CUSTOM_ID_CHARS - len(form)
        return form + stored_commands.payload(self.services, button.command, limit, inline=COMMAND)

    def _command_of(self, custom_id: str) -> str | None:
        return stored_commands.command_of(self.services, custom_id, inline=COMMAND)

    def modal(self, form: Form, name: str, command: str) -> dict[str, Any]:
        """A Discord modal for a neutral form: text inputs, a choice shown as its allowed values."""
        key = form.key_of(command)
        choices = Choices(tracks=track_choices(self.services))
        rows = []
        for spec in form.fields[:5]:
            placeholder = str(spec.hint or "")
            allowed = choices.of(spec)
            if spec.kind == "choice" and allowed:
                placeholder = ", ".join(value for value, _ in allowed)
            elif spec.kind == "date":
                placeholder = "YYYY-MM-DD"
            text_input: dict[str, Any] = {
                "type": 4,
                "custom_id": spec.id,
                "label": str(spec.label)[:INPUT_LABEL_CHARS],
                "style": 2 if spec.kind == "paragraph" else 1,
                "required": not spec.optional,
            }
            if placeholder:
                text_input["placeholder"] = placeholder[:100]
            if spec.max_length:
                text_input["max_length"] = spec.max_length
            rows.append({"type": 1, "components": [text_input]})
        return {"custom_id": f"{name}:{key}", "title": form.title_for(key)[:MODAL_TITLE_CHARS], "components": rows}

    def choices(self, data: dict[str, Any]) -> list[dict[str, str]]:
        """Autocomplete: the cities, cohorts or tracks (as the focused parameter declares) that start with (or
        contain) what is typed; in a list (`tourism, upsk`), its last item, the earlier ones kept."""
        focused = focused_option(data, FAMILIES)
        if focused is None:
            return []
        param, typed = focused
        if param.autocomplete is None:
            return []
        head, tail = "", typed
        if joiner := LISTS.get(param.kind):
            before, mark, tail = typed.rpartition(joiner.strip())
            head = f"{before.rstrip()}{joiner}" if mark else ""
        found = autocomplete(self.services, param.autocomplete, tail, limit=MAX_CHOICES)
        choices = [(f"{head}{value}", f"{head}{label}") for value, label in found]
        return [{"name": label, "value": value} for value, label in choices if len(value) <= 100 and len(label) <= 100]


def is_own_message(interaction: dict[str, Any]) -> bool:
    """Whether the message a component is on is seen by the presser alone: an ephemeral message (Discord sends
    its flags with EPHEMERAL), or one in the presser's DM with the bot (no guild, a DM channel)."""
    message = interaction.get("message") or {}
    if int(message.get("flags") or 0) & EPHEMERAL:
        return True
    channel = interaction.get("channel") or {}
    return not interaction.get("guild_id") and channel.get("type", DM_CHANNEL) == DM_CHANNEL


def _modal_answers(data: dict[str, Any]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for row in data.get("components") or []:
        for component in (row or {}).get("components") or []:
            if isinstance(component, dict) and component.get("custom_id"):
                answers[str(component["custom_id"])] = str(component.get("value") or "")
    return answers


def _answer(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
