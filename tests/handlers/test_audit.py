"""The audit trail: every privileged act is one row written with the act, nothing else writes one, and only
admins read it (paged, filtered, as CSV). On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from core.audit import AuditKind
from handlers import audit
from handlers.city_import import import_cities
from handlers.types import Services
from storage import audit_queries
from storage.db import unit_of_work
from storage.models import AuditEntry
from tests.handlers.conversation import ask, say


def entries(services: Services) -> list[AuditEntry]:
    with unit_of_work(services.engine) as session:
        rows = list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
    return rows


def count(services: Services) -> int:
    with unit_of_work(services.engine) as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


@pytest.fixture
def world(services: Services) -> Services:
    """ana is the admin; Brno (bob) and Graz (cara, and olga, who is also an organiser) in cohort ICC; rita waits to
    represent Brno; a one-off lab (event 1), a monthly meeting on the 15th (event 2), a broadcast for later (1) and
    a goal of Brno's."""
    lines = [
        ("ana", "/city register Brno country=CZ cohort=ICC"),
        ("ana", "/city register Graz country=AT cohort=ICC"),
        ("bob", "/city join Brno"),
        ("ana", "/city approve @bob Brno"),
        ("cara", "/city join Graz"),
        ("ana", "/city approve @cara Graz"),
        ("olga", "/city join Graz"),
        ("ana", "/city approve @olga Graz"),
        ("ana", "/city role @olga organiser"),
        ("rita", "/city join Brno"),
        ("dan", "/city show Brno"),
        ("olga", '/event add "City Lab" start="2026-12-10 10:00"'),
        ("olga", '/event add Monthly start="2026-12-15 10:00" repeat=FREQ=MONTHLY'),
        ("olga", '/event broadcast #general "See you in January" at="2027-01-04 09:00"'),
        ("bob", "/goal add Open a one-stop shop for renovation"),
    ]
    for user, line in lines:
        reply = ask(services, user, line)
        assert not reply.error, (line, reply.plain())
    return services


@pytest.mark.parametrize(
    "user, line, what, object_kind",
    [
        ("ana", "/city approve @rita Brno", AuditKind.APPROVE, "city"),
        ("ana", "/city reject @rita Brno", AuditKind.REJECT, "city"),
        ("ana", "/city role @dan expert", AuditKind.ROLE, "member"),
        ("olga", "/city role @dan expert", AuditKind.ROLE, "member"),
        ("ana", "/city register Porto country=PT", AuditKind.CITY_REGISTER, "city"),
        ("olga", "/city interests tourism", AuditKind.CITY_EDIT, "city"),
        ("olga", "/city offer study visits", AuditKind.CITY_EDIT, "city"),
        ("olga", "/city need heat maps", AuditKind.CITY_EDIT, "city"),
        ("olga", '/event add Summit start="2027-01-20 10:00"', AuditKind.EVENT_ADD, "event"),
        ("olga", '/event edit 1 where="Hotel Metropole"', AuditKind.EVENT_EDIT, "event"),
        ("olga", '/event edit 2 on=2027-01-15 start="2027-01-16 10:00"', AuditKind.EVENT_EDIT, "event"),
        ("olga", "/event remind 1 1d", AuditKind.EVENT_EDIT, "event"),
        ("olga", "/event cancel 1", AuditKind.EVENT_CANCEL, "event"),
        ("olga", "/event cancel 2 on=2027-01-15", AuditKind.EVENT_CANCEL, "event"),
        ("olga", "/event broadcast #general Welcome to ICC", AuditKind.BROADCAST, "broadcast"),
        ("olga", "/event broadcast cancel 1", AuditKind.BROADCAST_CANCEL, "broadcast"),
        ("olga", "/match round cohort=ICC", AuditKind.ROUND, "round"),
        ("ana", "/goal export", AuditKind.EXPORT, "goals"),
    ],
)
def test_every_privileged_command_writes_exactly_one_entry(world, clock, user, line, what, object_kind):
    before = count(world)
    clock.advance(timedelta(minutes=5))
    reply = ask(world, user, line)
    assert not reply.error, reply.plain()
    assert count(world) == before + 1
    entry = entries(world)[-1]
    assert (entry.what, entry.object_kind, entry.actor, entry.platform) == (what, object_kind, user, "console")
    assert entry.at == clock.now()
    assert entry.actor_id is not None


def test_an_entry_says_what_changed(world):
    say(world, "olga", "/city role @dan expert")
    role = entries(world)[-1]
    assert (role.object_id, role.subject, role.before, role.after) == (
        "dan",
        "dan",
        {"role": "none", "city_id": None},
        {"role": "expert", "city_id": None},
    )
    say(world, "ana", "/city approve @rita Brno")
    approve = entries(world)[-1]
    assert (approve.object_name, approve.subject, approve.after["role"]) == ("Brno", "rita", "rep")
    say(world, "olga", '/event edit 1 where="Hotel Metropole"')
    edit = entries(world)[-1]
    assert (edit.object_id, edit.object_name, edit.before, edit.after) == (
        "1",
        "City Lab",
        {"where": ""},
        {"where": "Hotel Metropole"},
    )
    say(world, "olga", "/event broadcast #general Welcome to ICC")
    sent = entries(world)[-1]
    assert "Welcome" not in str(sent.after)  # a message's text is a body, pruned in months; the trail keeps years


@pytest.mark.parametrize(
    "user, line",
    [
        ("bob", "/city register Linz country=AT"),  # refused: a rep
        ("ana", "/city register Brno country=CZ"),  # refused: exists
        ("ana", "/city register Linz"),  # malformed: no country
        ("ana", "/city role @dan wizard"),
        ("ana", "/city role @dan expert now"),
        ("ana", "/city approve @dan Brno"),  # nobody asked
        ("bob", "/city approve @rita Brno"),
        ("bob", "/city offer open data"),  # a rep's own edit is no privileged act
        ("olga", "/event add Oops"),
        ("olga", "/event edit 99 where=x"),
        ("olga", "/event edit 1"),
        ("bob", "/event cancel 1"),
        ("olga", "/event cancel 2 on=2027-01-16"),  # no meeting that day
        ("bob", "/event broadcast #general hi"),
        ("olga", "/event broadcast cancel 7"),
        ("olga", "/match round cohort=ICC dry=yes"),  # a dry run
        ("olga", "/match round cohort=Nowhere"),
        ("bob", "/goal export"),
        ("ana", "/goal export now"),
        ("bob", "/city audit"),
        ("ana", "/city audit"),  # reading the trail is not an act on it
    ],
)
def test_a_refused_malformed_or_harmless_command_writes_none(world, user, line):
    before = count(world)
    ask(world, user, line)
    assert count(world) == before


def test_the_import_is_one_entry_by_the_command_line(services, tmp_path: Path):
    path = tmp_path / "cities.csv"
    path.write_text("name,country,offers\nKraków,PL,Open data\nŁódź,PL,\n", encoding="utf-8")
    import_cities(services, path)
    [entry] = entries(services)
    assert (entry.what, entry.actor, entry.platform, entry.actor_id) == ("import", "cli", "cli", None)
    assert (entry.object_id, entry.after) == ("cities.csv", {"cities": 2, "offers": 1, "needs": 0})
    bad = tmp_path / "bad.csv"
    bad.write_text("name,country\nLinz,XX\n", encoding="utf-8")
    with pytest.raises(Exception):  # noqa: B017, PT011 - ImportFailed; nothing imported, nothing audited
        import_cities(services, bad)
    assert count(services) == 1


def test_record_and_entries_about_a_person(services, clock):
    """What the privacy export builds on: an act outside a command, and every entry a person did or was about."""
    say(services, "ana", "/city register Brno country=CZ")
    say(services, "bob", "/city join Brno")
    say(services, "ana", "/city approve @bob Brno")
    with unit_of_work(services.engine) as session:
        from storage import queries

        ana = queries.get_member(session=session, external_id="ana")
        audit.record(
            session,
            actor=ana,
            what=AuditKind.PRIVACY_EXPORT,
            object_kind="member",
            object_id="bob",
            subject="bob",
            now=clock.now(),
        )
    with unit_of_work(services.engine) as session:
        about_bob = audit.entries_about(session, "bob")
        about_ana = audit.entries_about(session, "ana")
    assert [e["what"] for e in about_bob] == ["approve", "privacy-export"]
    assert [e["what"] for e in about_ana] == ["city-register", "approve", "privacy-export"]
    assert about_bob[0]["actor"] == "ana" and about_bob[0]["at"] == clock.now().isoformat()


def test_the_table_refuses_a_kind_it_does_not_know(services, clock):
    with pytest.raises(Exception), unit_of_work(services.engine) as session:  # noqa: B017, PT011 - the CHECK
        audit_queries.add_entry(
            session=session,
            at=clock.now(),
            actor_id=None,
            actor="x",
            platform="cli",
            what="delete-everything",
            object_kind="x",
            object_id="1",
        )


# --- reading it ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["bob", "olga", "cara", "dan"])
def test_only_admins_read_the_audit(world, user):
    reply = ask(world, user, "/city audit")
    assert reply.error and not reply.files
    assert reply.plain() == "Only admins can read the audit trail."


def add_entries(services: Services, clock, n: int, *, actor: str = "ana", what=AuditKind.EVENT_ADD) -> None:
    with unit_of_work(services.engine) as session:
        for i in range(n):
            clock.advance(timedelta(minutes=1))
            audit_queries.add_entry(
                session=session,
                at=clock.now(),
                actor_id=None,
                actor=actor,
                platform="console",
                what=what.value,
                object_kind="event",
                object_id=str(i + 1),
                object_name=f"Event {i + 1}",
            )


def test_the_audit_is_paged_newest_first_with_a_more_button(services, clock):
    say(services, "ana", "/city tracks")  # ana is the admin
    add_entries(services, clock, 45)
    first = ask(services, "ana", "/city audit")
    lines = first.plain().splitlines()
    assert lines[0] == "Audit trail, newest first: 1–20 of 45"
    assert len(lines) == 22 and lines[-1] == "All 45 entries are in audit-2026-11-22.csv."
    assert lines[1].endswith("· @ana · event-add · event Event 45 (#45)")
    assert lines[20].endswith("event Event 26 (#26)")
    [more] = first.sections[20].buttons
    assert more.command == "/city audit page=2"
    second = ask(services, "ana", more.command)
    lines = second.plain().splitlines()
    assert lines[0] == "Audit trail, newest first: 21–40 of 45"
    assert lines[1].endswith("event Event 25 (#25)") and not second.files  # the file comes with the first page
    third = ask(services, "ana", second.sections[-1].buttons[0].command)
    assert third.plain().splitlines()[0] == "Audit trail, newest first: 41–45 of 45"
    assert third.plain().splitlines()[-1].endswith("event Event 1 (#1)")
    assert not any(section.buttons for section in third.sections)
    assert ask(services, "ana", "/city audit page=4").plain() == "Page 4 is past the last of 45 entries."


def test_times_are_in_the_readers_zone(services, clock):
    say(services, "ana", "/city timezone Asia/Tokyo")
    add_entries(services, clock, 1)  # 09:01 UTC
    lines = say(services, "ana", "/city audit").splitlines()
    assert lines[1].startswith("Sun 22 Nov 2026, 18:01 JST · @ana · event-add")


def test_filters_since_who_and_what(world, clock):
    clock.advance(timedelta(days=10))
    say(world, "olga", "/city role @dan expert")
    say(world, "ana", "/city approve @rita Brno")
    filtered = ask(world, "ana", "/city audit since=2026-12-02 what=role")
    lines = filtered.plain().splitlines()
    assert lines[0] == "Audit trail since 2026-12-02 of kind role, newest first: 1–1 of 1"
    assert lines[1].endswith("· @olga · role · member @dan · role: none → expert")
    by_olga = say(world, "ana", "/city audit who=@olga").splitlines()
    assert by_olga[0].startswith("Audit trail by @olga, newest first: 1–")
    assert all("· @olga ·" in line for line in by_olga[1:-1])
    assert "event-add" in " ".join(by_olga) and "approve" not in " ".join(by_olga)
    since = say(world, "ana", "/city audit since=2026-12-02").splitlines()
    assert since[0] == "Audit trail since 2026-12-02, newest first: 1–2 of 2"
    assert say(world, "ana", "/city audit what=import") == "No audit entries of kind import."
    paged = ask(world, "ana", "/city audit who=@olga")
    assert not any(s.buttons for s in paged.sections)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("/city audit what=nuke", "`what=` is one of: approve, reject, role,"),
        ("/city audit who=olga", "`who=` names a person as @name, not `olga`."),
        ("/city audit page=many", "`page=` expects a whole number of at least 1, not `many`."),
        ("/city audit since=someday", "`someday` is not a date"),
        ("/city audit page=0", "page"),
        ("/city audit everything", "Expected: /city audit [since=<date>] [who=<@user>] [what=<kind>] [page=<n>]"),
        ("/city audit whom=@olga", "Did you mean `who=`?"),
    ],
)
def test_malformed_audit_lines_get_one_line(world, line, expected):
    reply = ask(world, "ana", line)
    assert reply.error and expected in reply.plain() and "\n" not in reply.plain()


def test_the_more_button_keeps_the_filters(services, clock):
    say(services, "ana", "/city tracks")
    add_entries(services, clock, 25, actor="ana", what=AuditKind.BROADCAST)
    reply = ask(services, "ana", '/city audit what=broadcast who=@ana since="22/11/2026"')
    # Each filter as read, written back as the grammar reads it: the day as a date, the person by their id.
    assert reply.sections[20].buttons[0].command == "/city audit since=2026-11-22 who=<@ana> what=broadcast page=2"
    assert say(services, "ana", reply.sections[20].buttons[0].command).splitlines()[0] == (
        "Audit trail since 2026-11-22 by @ana of kind broadcast, newest first: 21–25 of 25"
    )


def test_the_csv_holds_every_filtered_entry_and_no_formula(services, clock):
    say(services, "ana", "/city tracks")
    add_entries(services, clock, 25)
    with unit_of_work(services.engine) as session:
        audit_queries.add_entry(
            session=session,
            at=clock.now(),
            actor_id=None,
            actor="ana",
            platform="console",
            what="city-register",
            object_kind="city",
            object_id="9",
            object_name="=HYPERLINK(1)",
            after={"country": "PL", "name": "Łódź"},
        )
    reply = ask(services, "ana", "/city audit")
    [file] = reply.files
    assert (file.filename, file.mime_type) == ("audit-2026-11-22.csv", "text/csv")
    assert file.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    assert len(rows) == 1 + 26  # every entry, not one page
    assert rows[1][5] == "event-add" and rows[1][2] == "ana" and rows[1][3] == "ana"
    last = rows[-1]
    assert last[8] == "'=HYPERLINK(1)"
    assert last[11] == '{"country": "PL", "name": "Łódź"}'
    only = ask(services, "ana", "/city audit what=city-register")
    assert len(list(csv.reader(io.StringIO(only.files[0].content.decode("utf-8-sig"))))) == 2


def test_audit_is_in_the_help(services):
    assert "/city audit [since=<date>] [who=<@user>] [what=<kind>] [page=<n>]" in say(services, "ana", "/city help")


def test_an_act_whose_command_fails_after_it_was_declared_leaves_no_entry(world, monkeypatch):
    """The entry is written in the command's own transaction: a failure later in the command takes it back too."""
    import handlers.dispatch

    def broken(*_args, **_kwargs):
        raise RuntimeError("the outbox is gone")

    monkeypatch.setattr(handlers.dispatch, "queue_notices", broken)
    before = count(world)
    with pytest.raises(RuntimeError):
        ask(world, "ana", "/city approve @rita Brno")
    monkeypatch.undo()
    assert count(world) == before
    assert "rita" not in say(world, "ana", "/city show Brno")  # the approval went with it


def test_the_migration_checks_exactly_the_kinds_the_code_knows():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "storage" / "migrations" / "versions" / "0013_audit.py"
    spec = importlib.util.spec_from_file_location("audit_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert tuple(kind.value for kind in AuditKind) == migration.KINDS
