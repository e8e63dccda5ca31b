"""Bolt listeners, wired in one `register(app, services, notifier)`; the callbacks stay thin.

Every listener calls `ack()` first: bolt's sync App (process_before_response off) runs a listener on its
executor and sends the HTTP response as soon as ack() is called, so the slow part (users.info, the
database, notices, respond) happens after Slack has its answer (the 3-second limit).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import forms as slack_forms
from bot.slack import ids
from bot.slack.markup import unescape as unescape_mrkdwn
from bot.slack.notifier import SlackNotifier
from bot.slack.render import HOME_BLOCKS, render
from core import i18n
from core.i18n import N_, Language
from handlers import languages, privacy, stored_commands
from handlers.dispatch import FAMILIES, handle
from handlers.forms import FORMS, Choices
from handlers.home import home, track_choices
from handlers.types import Reply, Request, Services
from storage import seen_events
from storage.db import unit_of_work

log = logging.getLogger(__name__)

PROFILE_TTL = 600.0
BUTTON_ACTIONS = re.compile(r"^cmd-")
FORM_ACTIONS = re.compile(r"^form-")
FORM_VIEWS = re.compile(r"^form:")
MODAL_ERROR_CHARS = 150
# Every other slash command (one the manifest declares before its family exists). It must not match a family's
# own command: bolt tries the next matching listener when the first has not acked in time, which ran it twice.
OTHER_COMMAND = re.compile(r"^/(?!(?:" + "|".join(map(re.escape, FAMILIES)) + r")$)")
HANDLED = "citypeers_handled"  # set in the bolt context once the command has run (and maybe committed)


class Strings:
    """Every user-facing line of the Slack adapter, in one place so it can be translated later."""

    FAILED = N_("Something went wrong on our side; nothing was changed (ref {ref}).")
    FAILED_AFTER = N_("Something went wrong on our side after your command ran; check before repeating it (ref {ref}).")
    UPLOADED = N_("{files} is in your direct messages with CityPeers.")
    NOT_UPLOADED = N_("Could not upload {files} to Slack; try again in a moment.")
    UNKNOWN_BUTTON = stored_commands.UNKNOWN_BUTTON


Profile = tuple[str, str | None, str | None]  # display name, time zone, language (Slack's `pl-PL`)


class ProfileCache:
    """users.info answers (display name, time zone, language) kept for `ttl` seconds, so a command costs no extra
    call."""

    def __init__(
        self,
        lookup: Callable[[str], Profile],
        ttl: float = PROFILE_TTL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._now = now
        self._entries: dict[str, tuple[float, Profile]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str, fallback_name: str = "") -> Profile:
        with self._lock:
            entry = self._entries.get(user_id)
        if entry is not None and entry[0] > self._now():
            return entry[1]
        try:
            profile = self._lookup(user_id)
        except (SlackApiError, SlackClientError, OSError) as error:
            # The command still runs, with the name Slack sent, the default time zone and the member's language.
            log.warning("users.info failed for %s (%s); using the name from the request", user_id, error)
            return fallback_name or user_id, None, None
        with self._lock:
            self._entries[user_id] = (self._now() + self._ttl, profile)
        return profile


def register(app: App, services: Services, notifier: SlackNotifier, *, profile_ttl: float = PROFILE_TTL) -> None:
    """Slash commands for every family in FAMILIES, buttons, the Home tab, event de-duplication, errors."""
    profiles = ProfileCache(notifier.user_profile, profile_ttl)

    def reader(user_id: str) -> Language:
        """The language a Slack person reads, for what the adapter writes itself (a form, a failure)."""
        return languages.of_person(services, ids.ours(user_id), profiles.get(user_id)[2])

    value = notifier.value

    def run_line(user_id: str, fallback_name: str, line: str, context: BoltContext) -> Reply:
        """Run `/family rest` as `user_id`; its notices for others are in the delivery ledger already."""
        name, tz, locale = profiles.get(user_id, fallback_name)
        family, _, text = line.strip().lstrip("/").partition(" ")
        request = Request(
            user_id=ids.ours(user_id), user_name=name, command=family, text=ids.neutral(text), tz=tz, locale=locale
        )
        reply = services.meter.measure(family, lambda: handle(services, request))
        context[HANDLED] = True
        if reply.files:
            uploaded = notifier.upload_files(user_id, reply.files)
            reply.add(
                Strings.UPLOADED if uploaded else Strings.NOT_UPLOADED, files=", ".join(f.filename for f in reply.files)
            )
            reply = reply.localize(reply.language)  # the line added here, in the language of the rest
        return reply

    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        # With should_escape, Slack sends typed & < > as entities; the handlers want what was typed.
        line = f"{command['command']} {unescape_mrkdwn(command.get('text', ''))}"
        reply = run_line(command["user_id"], command.get("user_name", ""), line, context)
        message = render(reply, value=value)
        _check(respond(text=message.text, blocks=message.blocks, response_type="ephemeral"))

    def on_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond | None, context: BoltContext
    ) -> None:
        ack()
        user = body["user"]
        line = stored_commands.command_of(services, str(action.get("value", "")))
        if line is None:
            reply = Reply.fail(Strings.UNKNOWN_BUTTON).localize(reader(user["id"]))
        else:
            reply = run_line(user["id"], user.get("username") or user.get("name", ""), line, context)
        if body.get("view", {}).get("type") == "home":
            notifier.send(user["id"], reply)
            publish_home(user["id"])  # the Home shows the change at once
            return
        if respond is None or respond.response_url is None:
            notifier.send(user["id"], reply)  # a button in a view has nothing to replace
            return
        message = render(reply, value=value)
        if is_own_message(body):
            # Replacing the person's own message removes its buttons, so nobody presses Approve twice.
            _check(respond(text=message.text, blocks=message.blocks, replace_original=True))
            return
        # A message others see too (a channel reminder): the presser alone gets the answer; the message stays.
        _check(respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False))

    def publish_home(user_id: str) -> None:
        name, tz, locale = profiles.get(user_id)
        page = home(services, user_id=ids.ours(user_id), user_name=name, tz=tz, locale=locale)
        notifier.publish_home(user_id, render(page, max_blocks=HOME_BLOCKS, value=value).blocks)

    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            publish_home(event["user"])

    def on_user_change(event: dict[str, Any]) -> None:
        """Someone deactivated in the workspace: organisers are told, and they are erased later (handlers.privacy);
        reactivated before then, they are kept. Every profile edit sends this event too: those change nothing."""
        user = event.get("user")
        if not isinstance(user, dict) or not user.get("id"):
            return
        if user.get("deleted"):
            privacy.member_left(services, ids.ours(str(user["id"])), platform_name="Slack")
        else:
            privacy.member_returned(services, ids.ours(str(user["id"])))

    def on_form_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A button that needs more answers first: open its modal (the trigger_id lives three seconds)."""
        ack()
        name = action["action_id"].removeprefix("form-").rsplit("-cmd-", 1)[0]
        form = FORMS.get(name)
        if form is None:
            log.warning("a button asked for a form that does not exist: %r", name[:80])
            return
        choices = Choices(tracks=track_choices(services))
        with i18n.reading(reader(body["user"]["id"])):  # the form in the presser's language
            view = slack_forms.modal(
                form, stored_commands.command_of(services, str(action.get("value", ""))) or "", choices
            )
        notifier.open_view(body["trigger_id"], view)

    def on_form_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        """Run the command the modal built; a mistake is shown in the modal, next to the field it concerns."""
        form = FORMS.get(view["callback_id"].removeprefix(slack_forms.CALLBACK_PREFIX))
        if form is None:
            ack()
            return
        answers = slack_forms.answers(form, view.get("state", {}).get("values", {}))
        line = form.build(answers, str(view.get("private_metadata", "")))
        user = body["user"]
        reply = run_line(user["id"], user.get("username") or user.get("name", ""), line, context)
        if reply.error:
            error = reply.plain()
            ack(response_action="errors", errors={form.field_for(reply.error_field): error[:MODAL_ERROR_CHARS]})
            return
        ack()
        notifier.send(user["id"], reply)
        publish_home(user["id"])

    def skip_event_retries(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Answer a retried event at once without running it again (before bolt's ack, in the request thread).
        The ids seen are in the database, so a retry that reaches another process is answered once too."""
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            with unit_of_work(services.engine) as session:
                first = seen_events.first_sighting(session=session, event_id=event_id, now=services.clock.now())
            if not first:
                log.info("event %s already received; retry ignored", event_id)
                return BoltResponse(status=200, body="")
        return next()

    def on_error(error: Exception, body: dict[str, Any], context: BoltContext, respond: Respond | None) -> None:
        """The one place unexpected errors go: logged with a reference, told to the user in one line."""
        ref = secrets.token_hex(3)
        what = body.get("command") or body.get("type") or "request"
        log.error("unexpected error ref=%s in %s for user %s", ref, what, context.user_id, exc_info=error)
        if respond is None or respond.response_url is None:
            return
        failed = Reply.fail(Strings.FAILED_AFTER if context.get(HANDLED) else Strings.FAILED, ref=ref)
        try:
            failed = failed.localize(reader(context.user_id)) if context.user_id else failed
        except Exception:  # the database may be what failed: the English line, still one line
            log.warning("could not find the language of %s", context.user_id)
        message = render(failed)
        try:
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
        except (SlackClientError, OSError) as failure:
            log.warning("could not tell the user about ref=%s: %s", ref, failure)

    app.use(skip_event_retries)
    for family in FAMILIES:
        app.command(f"/{family}")(on_command)
    # A command the manifest declares before its family exists gets the dispatcher's one line, not a Slack error.
    app.command(OTHER_COMMAND)(on_command)
    app.action(BUTTON_ACTIONS)(on_button)
    app.action(FORM_ACTIONS)(on_form_button)
    app.view(FORM_VIEWS)(on_form_submitted)
    app.event("app_home_opened")(on_home_opened)
    app.event("user_change")(on_user_change)
    app.error(on_error)


def is_own_message(body: dict[str, Any]) -> bool:
    """Whether the message a button is on is seen by the presser alone: an ephemeral message, or one in their DM
    with the app (Slack names a DM's channel `directmessage`; its id starts with D)."""
    if (body.get("container") or {}).get("is_ephemeral"):
        return True
    channel = body.get("channel") or {}
    return channel.get("name") == "directmessage" or str(channel.get("id", "")).startswith("D")


def _check(response: Any) -> None:
    """respond() does not raise on a refusal; a refused reply is logged so it is not lost silently."""
    if getattr(response, "status_code", 200) != 200:
        log.warning("response_url refused the reply: %s %s", response.status_code, response.body)
