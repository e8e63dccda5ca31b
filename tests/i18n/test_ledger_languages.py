"""A reminder to three people who read three languages: each reads theirs, the row's language is fixed at its
first attempt, so a process dying between attempts leaves a retry that writes the same bytes (even when the person
changed language meanwhile), and a message the platform took before the process died is never sent twice. With
each platform's own renderer (Slack's Block Kit, Discord's content), as their senders would post it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bot.delivery import Arrival, Outgoing, SendOutcome
from storage import ledger_queries
from storage.db import unit_of_work
from tests.handlers.conversation import say
from tests.support.outbox import engine_for


class Crash(BaseException):
    """The process dies mid-send: nothing after it runs, the claim and the attempt stay in the ledger."""


def rendered(platform: str, message: Outgoing) -> str:
    """The bytes the platform's sender would post."""
    if platform == "slack":
        from bot.slack.render import render

        slack = render(message.reply)
        return json.dumps([slack.text, slack.blocks], ensure_ascii=False, sort_keys=True)
    from bot.discord.render import render as discord_render

    discord = discord_render(message.reply, custom_id=lambda button: None)
    return json.dumps([discord.content, discord.components], ensure_ascii=False, sort_keys=True)


@dataclass
class Platform:
    """Stands in for Slack or Discord: keeps what it accepted; dies (the process, not the platform) at the second
    message, after (`took_it`) or before it accepted it."""

    name: str
    took_it: bool
    crash_at: int | None = 2
    posted: list[tuple[str, str]] = field(default_factory=list)  # (recipient, bytes) the platform holds
    attempts: dict[str, list[str]] = field(default_factory=dict)  # key -> bytes of each attempt
    keys: list[str] = field(default_factory=list)
    calls: int = 0

    def send(self, message: Outgoing) -> SendOutcome:
        self.calls += 1
        body = rendered(self.name, message)
        self.attempts.setdefault(message.key, []).append(body)
        if self.calls == self.crash_at:
            if self.took_it:
                self.posted.append((message.recipient, body))
                self.keys.append(message.key)
            raise Crash
        self.posted.append((message.recipient, body))
        self.keys.append(message.key)
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        return Arrival.ARRIVED if message.key in self.keys else Arrival.ABSENT


PEOPLE = {"pl": "1001", "el": "1002", "de": "1003"}
# How each starts, and its date (a row sent after the takeover says "in 24 hours" and that it is late).
READS = {
    "pl": ("⏰ *City Lab* – początek za ", "wt., 24 lis 2026, 10:00 CET"),
    "el": ("⏰ *City Lab*: ξεκινά σε ", "Τρί 24 Νοε 2026, 10:00 CET"),
    "de": ("⏰ *City Lab* beginnt in ", "Di., 24. Nov. 2026, 10:00 CET"),
}


@pytest.mark.parametrize("platform", ["slack", "discord"])
@pytest.mark.parametrize("took_it", [False, True], ids=["crash-before-the-platform-took-it", "answer-lost"])
def test_a_reminder_in_three_languages_survives_a_crash_with_the_same_bytes_and_goes_once(
    services, clock, platform: str, took_it: bool
) -> None:
    people = {code: f"{platform}:{'U' if platform == 'slack' else ''}{number}" for code, number in PEOPLE.items()}
    start = (clock.now() + timedelta(days=2)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d 10:00")
    say(services, "ana", f'/event add City Lab start="{start}" remind=1d')
    for code, person in people.items():
        say(services, person, f"/city language {code}")
        say(services, person, "/event rsvp 1")
    fake = Platform(platform, took_it)
    clock.advance(timedelta(days=1))
    with pytest.raises(Crash):
        engine_for(services, fake, worker="first").run_due()
    [interrupted] = [key for key, bodies in fake.attempts.items() if key not in fake.keys or took_it][-1:]
    # The person of the interrupted row now reads Spanish; the row keeps the language of its first attempt.
    recipient = interrupted.rsplit(":", 2)[-2] + ":" + interrupted.rsplit(":", 1)[-1]
    say(services, recipient, "/city language es")
    clock.advance(timedelta(minutes=6))  # the first process's claim lapses; another takes its rows over
    engine_for(services, fake, worker="second").run_due()

    by_person = {person: [body for who, body in fake.posted if who == person] for person in people.values()}
    assert all(len(bodies) == 1 for bodies in by_person.values()), by_person  # each person once, never twice
    for code, person in people.items():
        (body,) = by_person[person]
        opening, day = READS[code]
        opening = opening if platform == "slack" else opening.replace("*", "**")
        assert opening in body and day in body, (code, body)  # their own language, rendered for them
        assert "Europe" not in body and " starts " not in body
    assert len({body for body in (b for bodies in by_person.values() for b in bodies)}) == 3
    bodies = fake.attempts[interrupted]
    if took_it:
        assert len(bodies) == 1  # it had arrived: the takeover asked and did not send it again
    else:
        assert len(bodies) == 2 and bodies[0] == bodies[1]  # the same bytes, in the language first fixed
    with unit_of_work(services.engine) as session:
        rows = ledger_queries.deliveries_for(session=session, event_id=1)
        assert sorted((row.locale, row.status) for row in rows) == [("de", "sent"), ("el", "sent"), ("pl", "sent")]
