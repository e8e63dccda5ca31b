"""/city privacy: what is kept (the README says the same), a person's export, erasing them, and who may do it.

One human here is two people to CityPeers: Zuzana on Slack and Zuzana on Discord, two member rows that nothing
links. Every table is filled for them through real commands as far as commands reach, each is exported, and after
each is forgotten a scan of every text and JSON column of every table finds neither their ids nor their names.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import SQLModel

from core.clock import FakeClock
from handlers import privacy, stored_commands
from handlers.dispatch import handle
from handlers.types import Reply, Request, Services, reply_from_dict
from storage import privacy_queries
from storage.db import unit_of_work
from storage.models import Delivery, Goal, GoalUpdate, Introduction, Member

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("slack:U0ADMIN", "admin")
RUI = ("slack:U0RUI", "rui")  # represents Porto
ZUZ_SLACK = ("slack:U0ZUZ", "Quellwasser7")
ZUZ_DISCORD = ("discord:81234567890123", "zuzqw_dc")


def ask(services: Services, who: tuple[str, str], line: str) -> Reply:
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user_id=who[0], user_name=who[1], command=command, text=text))


def say(services: Services, who: tuple[str, str], line: str) -> str:
    return ask(services, who, line).plain()


def ref(who: tuple[str, str]) -> str:
    return f"<@{who[0]}|{who[1]}>"


def exported(reply: Reply) -> dict[str, Any]:
    assert not reply.error, reply.plain()
    (file,) = reply.files
    assert file.mime_type == "application/json" and file.filename.endswith(".json")
    return json.loads(file.content)


def scan(services: Services, *needles: str) -> list[str]:
    """Every place, in every text or JSON column of every table, where one of `needles` occurs."""
    found = []
    with unit_of_work(services.engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.connection().execute(select(table)).mappings():
                for name, value in row.items():  # by the values themselves, whatever the column's type says
                    if isinstance(value, str):
                        text = value
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        continue
                    found += [f"{table.name}.{name}: {text[:120]}" for n in needles if n in text]
    return found


@pytest.fixture
def programme(services: Services, clock: FakeClock) -> Services:
    """Brno and Porto; Zuzana represents Brno on Slack and is an expert on Discord; each does what people do."""
    for line in ("/city register Brno country=CZ", "/city register Porto country=PT"):
        assert "Registered" in say(services, ADMIN, line)
    for who, city in ((ZUZ_SLACK, "Brno"), (RUI, "Porto")):
        say(services, who, f"/city join {city}")
        assert "now represents" in say(services, ADMIN, f"/city approve {ref(who)} {city}")
    assert "is now expert" in say(services, ADMIN, f"/city role {ref(ZUZ_DISCORD)} expert")
    assert "Added" in say(services, ZUZ_SLACK, "/city offer bike sharing data")
    assert "Added" in say(services, ZUZ_SLACK, "/city need tourism flows know-how")
    assert "Added" in say(services, RUI, "/city offer tourism flows know-how")
    assert not ask(services, ZUZ_SLACK, "/goal add Open the mobility data due=2027-02-01").error
    assert not ask(services, ZUZ_SLACK, "/goal update 1 at-risk the vendor is late").error
    assert not ask(services, ADMIN, '/event add "City Lab" start="2026-12-10 09:00"').error
    assert not ask(services, ZUZ_SLACK, "/event rsvp 1").error
    assert not ask(services, ZUZ_DISCORD, "/event rsvp 1").error
    assert not ask(services, ZUZ_SLACK, "/event subscribe").error
    assert not ask(services, ZUZ_SLACK, "/match intro Porto").error
    assert not ask(services, ZUZ_SLACK, "/match outcome 1 met joint-proposal").error
    assert not ask(services, RUI, "/match outcome 1 met joint-proposal").error
    dashboard = ask(services, ZUZ_DISCORD, "/goal dashboard")
    assert not dashboard.error, dashboard.plain()
    # A button's command too long for a payload, naming her, kept server-side.
    stored_commands.store(services, f"/city approve {ref(ZUZ_SLACK)} Brno " + "x" * 100)
    # The delivery engine sent what was due (approvals, the introduction): their bodies are what was sent.
    with unit_of_work(services.engine) as session:
        session.connection().execute(
            update(Delivery.__table__)
            .where(Delivery.__table__.c.due_at <= clock.now(), Delivery.__table__.c.kind == "notice")
            .values(status="sent", sent_at=clock.now())
        )
    return services


SLACK_SECTIONS = (
    "join_requests",
    "rsvps",
    "goals",
    "goal_updates",
    "offers_and_needs",
    "introductions",
    "introduction_outcomes",
    "calendar_feeds",
    "messages_to_you",
    "audit",
    "cities_represented",
)


def test_an_export_holds_every_kind_of_record_for_each_platforms_member(programme: Services) -> None:
    slack = exported(ask(programme, ZUZ_SLACK, "/city privacy export"))
    assert slack["format"] == privacy.FORMAT and slack["platform"] == "slack"
    assert slack["member"]["external_id"] == ZUZ_SLACK[0] and slack["member"]["display_name"] == ZUZ_SLACK[1]
    for section in SLACK_SECTIONS:
        assert slack[section], f"{section} is empty"
    assert slack["cities_represented"][0]["name"] == "Brno"
    assert slack["goals"][0]["text"] == "Open the mobility data"
    assert any(u["note"] == "the vendor is late" for u in slack["goal_updates"])
    assert slack["rsvps"][0]["event_title"] == "City Lab"
    assert set(slack["calendar_feeds"][0]) >= {"token_hash", "scope"} and "token" not in slack["calendar_feeds"][0]
    kinds = {(m["kind"], m["recipient_kind"]) for m in slack["messages_to_you"]}
    assert ("reminder", "user") in kinds and ("notice", "group") in kinds  # a reminder; the introduction
    assert any(entry["what"] == "approve" and entry["subject"] == ZUZ_SLACK[0] for entry in slack["audit"])
    assert slack["other_records"] == {}, "a reference to members with no documented section"

    discord = exported(ask(programme, ZUZ_DISCORD, "/city privacy export"))
    assert discord["platform"] == "discord" and discord["member"]["role"] == "expert"
    assert discord["member"]["external_id"] == ZUZ_DISCORD[0]
    for section in ("rsvps", "dashboard_links", "messages_to_you", "audit"):
        assert discord[section], f"{section} is empty"
    assert not discord["goals"] and not discord["join_requests"]  # the other person's, not hers
    assert "token" not in discord["dashboard_links"][0] and len(discord["dashboard_links"][0]["token_hash"]) == 64
    # Every section and field is described in the file itself.
    for key in slack:
        assert key in privacy.SCHEMA or key in privacy.SCHEMA["sections"] or key == "schema", key
    for section, _what in privacy.SECTIONS.values():
        assert section in privacy.SCHEMA["sections"]


def test_every_reference_to_a_member_has_a_section_of_the_export() -> None:
    refs = {f"{table.name}.{column.name}" for table, column in privacy_queries.member_columns()}
    assert refs - set(privacy.SECTIONS) == set()


def test_forget_asks_first_then_erases_everything_personal_and_keeps_the_citys(programme: Services) -> None:
    question = ask(programme, ZUZ_SLACK, "/city privacy forget")
    assert "cannot be undone" in question.plain()
    (button,) = question.sections[-1].buttons
    assert button.command == "/city privacy forget confirm" and button.style == "danger"
    assert scan(programme, ZUZ_SLACK[0]), "nothing to erase: the test filled no table"

    done = say(programme, ZUZ_SLACK, button.command)
    assert done.startswith("Done: CityPeers no longer keeps anything about you")
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []
    with unit_of_work(programme.engine) as session:
        goal = session.get(Goal, 1)
        assert goal is not None and goal.text == "Open the mobility data" and goal.created_by_id is None
        assert all(u.member_id is None for u in session.scalars(select(GoalUpdate)))
        assert session.scalars(select(Introduction)).one().created_by_id is None
        rows = list(session.scalars(select(Delivery).where(Delivery.recipient == privacy_queries.FORMER)))
        assert rows and all(r.body is None for r in rows)
        assert all(r.status != "pending" for r in rows), "a message still to go to a forgotten person"
        forgotten = [
            e for e in session.connection().execute(select(SQLModel.metadata.tables["audit_entry"])).mappings()
        ]
        assert any(
            e["what"] == "privacy-forget" and re.fullmatch(r"former-[0-9a-f]{8}", e["subject"]) for e in forgotten
        )
    # The city's goals and introductions remain, and the bot keeps working for everyone else.
    assert "Open the mobility data" in say(programme, ADMIN, "/goal list Brno")
    assert not ask(programme, RUI, "/goal add Share the tourism model").error
    assert not ask(programme, RUI, "/match").error
    assert "Representatives: none yet" in say(programme, ADMIN, "/city show Brno")
    assert "City Lab" in say(programme, RUI, "/event list")
    # The other platform's member is another person: untouched until forgotten in turn, by an organiser.
    assert scan(programme, ZUZ_DISCORD[0])
    question = ask(programme, ADMIN, f"/city privacy forget {ref(ZUZ_DISCORD)}")
    (button,) = question.sections[-1].buttons
    assert button.command == f"/city privacy forget <@{ZUZ_DISCORD[0]}> confirm"
    assert say(programme, ADMIN, button.command).startswith(
        f"Done: CityPeers no longer keeps anything about @{ZUZ_DISCORD[1]}"
    )
    assert scan(programme, ZUZ_DISCORD[0], ZUZ_DISCORD[1]) == []


def test_forget_is_idempotent_and_a_person_who_comes_back_starts_afresh(programme: Services) -> None:
    say(programme, ZUZ_SLACK, "/city privacy forget confirm")
    assert say(programme, ADMIN, f"/city privacy forget {ref(ZUZ_SLACK)} confirm") == (
        f"CityPeers keeps nothing about @{ZUZ_SLACK[1]}."
    )
    assert say(programme, ZUZ_SLACK, "/city privacy forget confirm").startswith("Done")  # their fresh record only
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []
    # Back: a new member record, no role, no city, nothing from before.
    assert "You do not represent a city" in say(programme, ZUZ_SLACK, "/city show")
    fresh = exported(ask(programme, ZUZ_SLACK, "/city privacy export"))
    assert fresh["member"]["role"] == "none" and fresh["member"]["city_id"] is None
    assert not any(fresh[section] for section in SLACK_SECTIONS if section != "audit")
    with unit_of_work(programme.engine) as session:
        assert session.scalars(select(Member).where(Member.external_id == ZUZ_SLACK[0])).one().id != 2


def test_an_organiser_exports_and_forgets_someone_else_and_it_is_audited(programme: Services) -> None:
    assert say(programme, ADMIN, f"/city role {ref(RUI)} organiser") == "@rui is now organiser."
    data = exported(ask(programme, RUI, f"/city privacy export {ref(ZUZ_SLACK)}"))
    assert data["member"]["external_id"] == ZUZ_SLACK[0]
    assert say(programme, RUI, f"/city privacy forget {ref(ZUZ_SLACK)} confirm").startswith("Done")
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []
    with unit_of_work(programme.engine) as session:
        audit = SQLModel.metadata.tables["audit_entry"]
        entries = list(session.connection().execute(select(audit).order_by(audit.c.id)).mappings())
    export, forget = [e for e in entries if e["what"] in ("privacy-export", "privacy-forget")]
    assert export["actor"] == forget["actor"] == RUI[0]
    assert export["subject"] == forget["subject"] and export["subject"].startswith("former-")  # named no more
    # the trail says what was erased in words, never as a Python value
    assert isinstance(forget["after"]["rows_deleted"], dict) and forget["after"]["rows_deleted"]
    trail = say(programme, ADMIN, "/city audit what=privacy-forget")
    assert "rows deleted: " in trail and "{" not in trail and "'" not in trail.split("rows deleted: ")[1]


def test_an_export_holds_each_message_as_it_reads_never_json_inside_json(programme: Services) -> None:
    reply = ask(programme, ZUZ_SLACK, "/city privacy export")
    (file,) = reply.files
    assert b"\\u" not in file.content  # no escaped letters: UTF-8 as written
    bodies = [m["body"] for m in exported(reply)["messages_to_you"] if m["body"]]
    assert bodies and not any(body.lstrip().startswith("{") for body in bodies)
    assert any(" meet " in body and "Brno" in body for body in bodies)  # the introduction, as it was read


def test_a_rep_cannot_export_or_forget_someone_else(programme: Services) -> None:
    for action in ("export", "forget", "forget confirm"):
        line = f"/city privacy {action.split()[0]} {ref(ZUZ_SLACK)}" + (" confirm" if "confirm" in action else "")
        reply = ask(programme, RUI, line)
        assert reply.error and reply.plain() == "Only admins and organisers can export or erase someone else's data."
        assert not reply.files
    assert scan(programme, ZUZ_SLACK[0])


def test_privacy_says_what_is_kept_and_the_readme_says_the_same(services: Services) -> None:
    text = say(services, ADMIN, "/city privacy")
    assert text.startswith(privacy.Strings.POLICY_TITLE) and "a former representative" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Personal data\n", 1)[1].split("\n## ", 1)[0]
    words = " ".join(section.split())  # the README wraps its lines
    for paragraph in privacy.policy_markdown().split("\n\n"):
        assert " ".join(paragraph.split()) in words, f"README's Personal data section lacks: {paragraph[:60]}…"
    assert "/city privacy [export|forget] [<@user>]" in say(services, ADMIN, "/city help")


def test_someone_who_left_is_reported_then_erased_after_the_delay(programme: Services, clock: FakeClock) -> None:
    assert privacy.member_left(programme, ZUZ_SLACK[0], platform_name="Slack") == "scheduled"
    assert privacy.member_left(programme, ZUZ_SLACK[0], platform_name="Slack") == "already"
    with unit_of_work(programme.engine) as session:
        told = session.scalars(select(Delivery).where(Delivery.recipient == ADMIN[0], Delivery.kind == "notice"))
        lines = [reply_from_dict(json.loads(row.body or "{}")).plain() for row in told]
    assert any(f"@{ZUZ_SLACK[1]} left the Slack workspace" in line for line in lines), lines
    assert privacy.forget_departed(programme) == 0
    clock.advance(programme.settings.forget_departed_after + timedelta(minutes=1))
    assert privacy.forget_departed(programme) == 1
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []
    assert privacy.member_left(programme, ZUZ_SLACK[0], platform_name="Slack") == "unknown"


def test_an_organiser_cannot_erase_another_organiser_but_an_admin_can(programme: Services) -> None:
    for who in (RUI, ZUZ_SLACK):
        assert say(programme, ADMIN, f"/city role {ref(who)} organiser") == f"@{who[1]} is now organiser."
    assert say(programme, RUI, f"/city privacy forget {ref(ZUZ_SLACK)} confirm") == privacy.Strings.FORGET_STAFF
    assert say(programme, RUI, f"/city privacy forget {ref(ADMIN)}") == privacy.Strings.FORGET_STAFF
    assert scan(programme, ZUZ_SLACK[0])
    assert say(programme, ADMIN, f"/city privacy forget {ref(ZUZ_SLACK)} confirm").startswith("Done")
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []


def test_with_no_delay_someone_who_left_is_erased_at_once_and_organisers_hear_of_it(programme: Services) -> None:
    at_once = dataclasses.replace(
        programme, settings=dataclasses.replace(programme.settings, forget_departed_after=timedelta(0))
    )
    assert privacy.member_left(at_once, ZUZ_SLACK[0], platform_name="Slack") == "erased"
    assert scan(programme, ZUZ_SLACK[0], ZUZ_SLACK[1]) == []
    with unit_of_work(programme.engine) as session:
        told = session.scalars(select(Delivery).where(Delivery.recipient == ADMIN[0], Delivery.kind == "notice"))
        lines = [reply_from_dict(json.loads(row.body or "{}")).plain() for row in told]
        audit = SQLModel.metadata.tables["audit_entry"]
        (entry,) = session.connection().execute(select(audit).where(audit.c.what == "privacy-forget")).mappings()
    assert any("left the Slack workspace; what CityPeers kept about them is erased" in line for line in lines)
    assert entry["actor"] == privacy.SYSTEM_ACTOR and entry["platform"] == "slack"


def test_ids_and_names_are_replaced_whole_and_only_where_they_name_the_person() -> None:
    scrub = privacy_queries.Scrubber("slack:U1", "ana", "former-1")
    line = "@ana and banana; ana's goal; <@slack:U1|ana> and <@slack:U12|bo>; slack:U1, slack:U12"
    assert scrub.text(line, names=True) == (
        "a former representative and banana; a former representative's goal; a former representative and "
        "<@slack:U12|bo>; former-1, slack:U12"
    )
    assert scrub.text(line, names=False).startswith("@ana and banana; ana's goal; a former representative and")
    assert not scrub.holds("slack:U12 asks", names=True) and scrub.holds("Could not deliver to @ana", names=True)
    reply = {"values": {"who": {"mention": ["slack:U1", "ana"]}, "other": {"mention": ["slack:U2", "bo"]}}}
    assert scrub.value(reply, names=True) == {
        "values": {"who": privacy_queries.TOMBSTONE, "other": {"mention": ["slack:U2", "bo"]}}
    }
