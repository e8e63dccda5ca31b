"""The /goal family and its follow-ups as conversations, on SQLite and PostgreSQL."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.dispatch import handle
from handlers.files.csv import GOAL_COLUMNS
from handlers.goal import due_checkins, weekly_digest
from handlers.types import Request
from storage import goal_queries
from storage.db import unit_of_work
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def programme(services):
    """ana is admin; bob represents Kraków, lea Łódź (both in cohort ICC 2020); eve is an expert,
    olga an organiser, sam nobody in particular. The clock stands at 2026-11-22 09:00 UTC."""
    say(services, "ana", '/city register Kraków country=PL cohort="ICC 2020"')
    say(services, "ana", '/city register Łódź country=PL cohort="ICC 2020"')
    say(services, "ana", "/city register Porto country=PT cohort=Mission")
    for rep, city in (("bob", "Kraków"), ("lea", "Łódź")):
        say(services, rep, f"/city join {city}")
        say(services, "ana", f"/city approve @{rep} {city}")
    say(services, "ana", "/city role @eve expert")
    say(services, "ana", "/city role @olga organiser")
    say(services, "sam", "/city tracks")
    return services


def goal_row(services, goal_id):
    with unit_of_work(services.engine) as session:
        goal = goal_queries.get_goal(session=session, goal_id=goal_id)
        history = goal_queries.goal_history(session=session, goal_id=goal_id)
        return goal, [(u.status, u.note) for u in history]


def test_add_defaults_to_three_months_and_suggests_introductions(programme):
    reply = ask(programme, "bob", "/goal add Open a tourism data hub track=tourism with=Łódź;porto")
    assert reply.plain().splitlines() == [
        "Goal #1 for Kraków: Open a tourism data hub",
        "Due 2027-02-22 · track Green and digital transition in tourism. "
        "Report with /goal update 1 on-track|at-risk|done.",
        "You named Łódź as a collaborator: an introduction puts your cities in touch.",
        "You named Porto as a collaborator; it has no representative yet, so nobody to introduce.",
    ]
    assert [b.command for s in reply.sections for b in s.buttons] == [  # Porto has nobody to introduce
        "/match intro Łódź",
        "/match notfit Łódź",
        "/match notfit Porto",
    ]
    goal, history = goal_row(programme, 1)
    assert (goal.due_on, goal.status, goal.closed_at) == (date(2027, 2, 22), "new", None)
    assert history == [("new", None)]


def test_the_default_due_date_is_three_months_from_today_in_the_users_zone(programme, clock):
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Kraków, still 30 November in New York
    warsaw = handle(programme, Request("bob", "bob", "goal", "add reskilling plan", tz="Europe/Warsaw"))
    assert "Due 2027-03-01." in warsaw.plain()
    new_york = handle(programme, Request("bob", "bob", "goal", "add open data portal", tz="America/New_York"))
    assert "Due 2027-02-28." in new_york.plain()  # 30 November + 3 months clamps to February's end


def test_a_given_due_date_is_read_day_first(programme):
    assert "Due 2027-01-05." in say(programme, "bob", "/goal add mobility pilot due=05/01/2027")
    assert "Due 2027-01-05." in say(programme, "bob", "/goal add second pilot due=2027-01-05")


@pytest.mark.parametrize(
    "user, line, expected",
    [
        ("bob", "/goal add", "Say what the goal is. Expected: /goal add <text>"),
        ("bob", "/goal add due=2027-01-01", "Say what the goal is."),
        ("bob", "/goal add pilot due=2026-11-21", "The due date 2026-11-21 has passed; give a date from today on."),
        ("bob", "/goal add pilot due=2031-01-01", "The due date 2031-01-01 is more than 3 years away"),
        ("bob", "/goal add pilot due=soon", "`soon` is not a date like 2020-09-28 10:00 or 28/09/2020."),
        ("bob", "/goal add pilot track=space", "`space` is not a track."),
        ("bob", "/goal add pilot with=Atlantis", "No city called `Atlantis`. See /city list."),
        ("bob", "/goal add pilot with=Łódź;kraków", "Kraków is your own city; with= names the cities"),
        ("bob", "/goal add pilot duee=2027-01-01", "Unknown option `duee=`. Did you mean `due=`?"),
        ("bob", "/goal add " + "x" * 501, "Keep a goal under 500 characters."),
        ("eve", "/goal add pilot", "You do not represent a city yet, so you cannot add goals."),
        ("sam", "/goal add pilot", "You do not represent a city yet, so you cannot add goals."),
        ("bob", "/goal update", "Give the goal's number, as in /goal update 12 on-track."),
        ("bob", "/goal update one done", "Give the goal's number"),
        ("bob", "/goal update 99 done", "There is no goal #99; see /goal list."),
        ("bob", "/goal update 99999999999999999999 done", "There is no goal #99999999999999999999"),
        ("bob", "/goal update 1", "Say how it goes: on-track, at-risk, done or dropped."),
        ("bob", "/goal update 1 late", "The status is one of on-track, at-risk, done or dropped, not `late`."),
        ("bob", "/goal update 1 at-risk learned=nothing", "learned= is for closing a goal"),
        ("bob", "/goal update 1 done " + "n" * 501, "Keep a note under 500 characters."),
        ("lea", "/goal update 1 done", "Only Kraków's representatives can change goal #1."),
        ("eve", "/goal update 1 done", "Only Kraków's representatives can change goal #1."),
        ("sam", "/goal update 1 at-risk", "Only Kraków's representatives can change goal #1."),
        ("olga", "/goal update 1 dropped", "Only Kraków's representatives can change goal #1."),
        ("ana", "/goal update #1 on-track", "Only Kraków's representatives can change goal #1."),
        ("sam", "/goal list", "You do not represent a city: ask to join one with /city join <name>."),
        ("sam", "/goal list all", "Only admins, experts and organisers can see other cities' goals."),
        ("lea", "/goal list Kraków", "Only admins, experts and organisers can see other cities' goals."),
        ("eve", "/goal list Atlantis", "No city called `Atlantis`."),
        ("bob", "/goal export", "Only admins, experts and organisers can export goals."),
        ("sam", "/goal chart", "Only admins, experts and organisers can chart goals."),
        ("eve", "/goal chart cohort=Nope", "No cohort called `Nope`."),
        ("eve", "/goal export now", "Expected: /goal export"),
        ("bob", "/goal fly", "Unknown command `/goal fly`. Try /goal help."),
    ],
)
def test_malformed_or_refused_lines_get_one_line_and_change_nothing(programme, user, line, expected):
    say(programme, "bob", "/goal add Open a tourism data hub with=Łódź")
    before = snapshot(programme.engine)
    reply = ask(programme, user, line)
    assert reply.error
    assert expected in reply.plain()
    assert len(reply.plain().splitlines()) == 1
    assert reply.notices == [] and reply.files == []
    assert snapshot(programme.engine) == before


def test_update_keeps_history_notes_and_key_learnings(programme, clock):
    say(programme, "bob", "/goal add Open a tourism data hub")
    clock.advance(timedelta(days=10))
    assert say(programme, "bob", "/goal update 1 at-risk procurement <!channel> is slow") == (
        "Goal #1 of Kraków is now at-risk: procurement <!channel> is slow"
    )
    assert say(programme, "bob", "/goal update #1 On Track") == "Goal #1 of Kraków is now on-track."
    clock.advance(timedelta(days=20))
    done = say(programme, "bob", '/goal update 1 done launched learned="Start procurement early"')
    assert done.splitlines() == [
        "Goal #1 of Kraków is now done: launched",
        "Key learnings kept: Start procurement early",
    ]
    goal, history = goal_row(programme, 1)
    assert history == [
        ("new", None),
        ("at-risk", "procurement <!channel> is slow"),
        ("on-track", None),
        ("done", "launched"),
    ]
    assert goal.learnings == "2026-12-22: Start procurement early"  # kept with its day
    assert goal.closed_at == clock.now() == goal.updated_at
    # Closed is closed: pressing Done again changes nothing; reopening is refused.
    assert say(programme, "bob", "/goal update 1 done") == "Goal #1 is already done."
    assert say(programme, "bob", "/goal update 1 on-track") == "Goal #1 is already done; it cannot become on-track."
    # ...but a closed goal still takes key learnings later: added to the first, each with its day, never replacing
    clock.advance(timedelta(days=3))
    assert "Added to the key learnings (2 in all, each with its day): Talk to suppliers" in say(
        programme, "bob", "/goal update 1 done learned='Talk to suppliers'"
    )
    later = goal_row(programme, 1)[0]
    assert later.learnings == "2026-12-22: Start procurement early\n2026-12-25: Talk to suppliers"
    assert later.closed_at == goal.closed_at
    before = snapshot(programme.engine)
    refused = ask(programme, "bob", "/goal update 1 done learned='" + "x" * 990 + "'")
    assert refused.error and "already keeps 65 characters of key learnings" in refused.plain()
    assert snapshot(programme.engine) == before  # nothing kept, nothing cut


def test_closing_without_learnings_asks_for_them(programme):
    say(programme, "bob", "/goal add Pilot a shared bike scheme")
    assert say(programme, "bob", "/goal update 1 dropped no budget").splitlines() == [
        "Goal #1 of Kraków is now dropped: no budget",
        'What did Kraków learn? Add it with /goal update 1 dropped learned="..."',
    ]


def test_list_own_city_with_buttons_on_open_goals(programme, clock):
    say(programme, "bob", "/goal add Open a tourism data hub track=tourism with=Łódź")
    say(programme, "bob", "/goal add Train 50 civil servants due=2026-12-10 track=upskilling")
    say(programme, "bob", "/goal add Publish the open data strategy due=2026-12-01")
    say(programme, "bob", "/goal update 3 done")
    say(programme, "lea", "/goal add Green procurement criteria")
    clock.set(datetime(2026, 12, 15, 9, tzinfo=UTC))
    reply = ask(programme, "bob", "/goal list")
    assert reply.plain().splitlines() == [
        "Goals of Kraków (3)",
        "#2 · not yet reported · due 2026-12-10 (overdue) · upskilling · Train 50 civil servants",
        "#1 · not yet reported · due 2027-02-22 · tourism · Open a tourism data hub",
        "with Łódź",
        "#3 · done · due 2026-12-01 · Publish the open data strategy",
    ]
    # The three one-press answers come first; other ways to update may follow them.
    assert [[b.command for b in s.buttons][:3] for s in reply.sections] == [
        ["/goal update 2 on-track", "/goal update 2 at-risk", "/goal update 2 done"],
        ["/goal update 1 on-track", "/goal update 1 at-risk", "/goal update 1 done"],
        [],
    ]
    assert [b.label for b in reply.sections[0].buttons][:3] == ["On track", "At risk", "Done"]
    # Pressing a button is typing its command, as whoever presses it.
    assert ask(programme, "bob", reply.sections[0].buttons[1].command).plain() == "Goal #2 of Kraków is now at-risk."
    assert ask(programme, "lea", reply.sections[0].buttons[2].command).error


def test_experts_and_organisers_see_any_city_overdue_and_by_track(programme, clock):
    say(programme, "bob", "/goal add Open a tourism data hub track=tourism")
    say(programme, "bob", "/goal add Train 50 civil servants due=2026-12-10 track=upskilling")
    say(programme, "lea", "/goal add Green procurement criteria due=2026-12-05 track=green-economy")
    say(programme, "lea", "/goal add Reskilling academy due=2026-12-06 track=upskilling")
    say(programme, "lea", "/goal update 4 done")
    clock.set(datetime(2026, 12, 15, 9, tzinfo=UTC))
    everything = ask(programme, "eve", "/goal list")
    assert everything.plain().splitlines()[0] == "Goals of all cities (4)"
    assert all(not s.buttons for s in everything.sections), "experts cannot press what they may not do"
    assert say(programme, "olga", "/goal list overdue").splitlines() == [
        "Overdue goals of all cities (2)",
        "#3 · Łódź · not yet reported · due 2026-12-05 (overdue) · green-economy · Green procurement criteria",
        "#2 · Kraków · not yet reported · due 2026-12-10 (overdue) · upskilling · Train 50 civil servants",
    ]
    assert say(programme, "eve", "/goal list łódź overdue").splitlines() == [
        "Overdue goals of Łódź (1)",
        "#3 · not yet reported · due 2026-12-05 (overdue) · green-economy · Green procurement criteria",
    ]
    assert say(programme, "eve", "/goal list all track=upskilling").splitlines() == [
        "Goals of all cities (2)",
        "#2 · Kraków · not yet reported · due 2026-12-10 (overdue) · upskilling · Train 50 civil servants",
        "#4 · Łódź · done · due 2026-12-06 · upskilling · Reskilling academy",
    ]
    assert say(programme, "eve", "/goal list Porto") == "No goals yet. A rep sets one with /goal add <text>."
    assert say(programme, "bob", "/goal list overdue track=tourism") == "No goals match."
    assert say(programme, "bob", "/goal list Kraków overdue").splitlines()[0] == "Overdue goals of Kraków (1)"


def test_a_long_list_is_cut_with_a_hint(programme):
    for i in range(25):
        say(programme, "bob", f"/goal add goal number {i + 1}")
    reply = ask(programme, "bob", "/goal list")
    lines = reply.plain().splitlines()
    assert lines[0] == "Goals of Kraków (25)"
    assert len(reply.sections) == 21
    assert lines[-1] == "…and 5 more. Narrow the list with track= or overdue, or get them all with /goal export."


def test_export_is_a_spreadsheet_safe_utf8_csv(programme, clock):
    say(programme, "bob", '/goal add =HYPERLINK("http://evil.example","click") track=tourism with=Łódź')
    say(programme, "bob", "/goal add +48 tonnes of CO2 less due=2026-12-01")
    say(programme, "lea", "/goal add -5% energy use in Łódź schools with=Kraków;Porto")
    say(programme, "lea", "/goal add @here reskilling academy, phase 2")
    say(programme, "lea", "/goal update 3 done learned=\"=cmd|' /C calc'!A0\"")
    clock.set(datetime(2026, 12, 15, 9, tzinfo=UTC))
    reply = ask(programme, "eve", "/goal export")
    assert reply.plain() == "Exported 4 goals of 2 cities to goals-2026-12-15.csv."
    [attachment] = reply.files
    assert (attachment.filename, attachment.mime_type) == ("goals-2026-12-15.csv", "text/csv")
    assert attachment.content.startswith(b"\xef\xbb\xbf"), "a byte-order mark tells spreadsheets it is UTF-8"
    assert "Łódź".encode() in attachment.content and "Kraków".encode() in attachment.content
    rows = list(csv.DictReader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert [(r["id"], r["city"], r["country"], r["cohort"]) for r in rows] == [
        ("1", "Kraków", "PL", "ICC 2020"),
        ("2", "Kraków", "PL", "ICC 2020"),
        ("3", "Łódź", "PL", "ICC 2020"),
        ("4", "Łódź", "PL", "ICC 2020"),
    ]
    assert [r["goal"] for r in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'+48 tonnes of CO2 less",
        "'-5% energy use in Łódź schools",
        "'@here reskilling academy, phase 2",
    ]
    assert rows[0]["track"] == "tourism" and rows[0]["collaborators"] == "Łódź"
    assert rows[2]["collaborators"] == "Kraków; Porto"
    assert rows[2]["key_learnings"] == "2026-11-22: =cmd|' /C calc'!A0"  # dated, so it starts with no formula
    assert [(r["status"], r["standing"], r["due"], r["overdue"]) for r in rows] == [
        ("not yet reported", "not yet reported", "2027-02-22", "no"),
        ("not yet reported", "overdue", "2026-12-01", "yes"),
        ("done", "done", "2027-02-22", "no"),
        ("not yet reported", "not yet reported", "2027-02-22", "no"),
    ]
    assert list(rows[0]) == list(GOAL_COLUMNS)  # the dashboard's goals.csv has the same columns
    assert rows[2]["history"].startswith("2026-11-22T09:00:00+00:00 not yet reported | 2026-11-22T09:00:00+00:00 done")
    assert rows[0]["created_by"] == "bob" and rows[2]["closed"] == "2026-11-22T09:00:00+00:00"
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())
    assert say(programme, "olga", "/goal export").startswith("Exported 4 goals")


def test_export_with_no_goals(programme):
    assert say(programme, "eve", "/goal export") == "No goals to export yet."


def test_chart_is_a_png_per_cohort_and_track(programme):
    assert say(programme, "eve", "/goal chart") == "No goals to chart yet."
    say(programme, "bob", "/goal add Open a tourism data hub track=tourism")
    say(programme, "bob", "/goal add Train civil servants track=upskilling")
    say(programme, "lea", "/goal add Green procurement")
    say(programme, "lea", "/goal update 3 at-risk")
    reply = ask(programme, "eve", "/goal chart")
    # It names what it shows (rows, cohort, track, day) and says in words what the picture shows.
    assert reply.plain().splitlines() == [
        "Progress of 3 goals per cohort and track · all cohorts · all tracks · 2026-11-22: "
        "goal-progress-2026-11-22.png.",
        "0/3 done · open: 0 on track, 1 at risk, 2 not yet reported, 0 overdue · 0 dropped, not counted as work.",
    ]
    [attachment] = reply.files
    assert attachment.mime_type == "image/png"
    assert attachment.content.startswith(PNG_MAGIC)
    assert attachment.content[12:16] == b"IHDR" and attachment.content.endswith(b"IEND\xaeB`\x82")
    assert say(programme, "olga", '/goal chart cohort="icc 2020"').startswith("Progress of 3 goals")
    assert say(programme, "olga", "/goal chart cohort=Mission") == "No goals to chart yet."


def test_help(programme):
    family = say(programme, "bob", "/goal help")
    for usage in ("/goal add <text> [due=<date>]", "/goal list", "/goal update <id>", "/goal export", "/goal chart"):
        assert usage in family
    assert say(programme, "bob", "/goal update help").startswith("`/goal update <id> on-track|at-risk|done|dropped")


# --- follow-ups -----------------------------------------------------------------------------------------


def test_check_ins_a_month_before_and_on_the_due_date_are_sent_once(programme, clock):
    say(programme, "bea", "/city join Kraków")
    say(programme, "ana", "/city approve @bea Kraków")  # a second rep of Kraków
    say(programme, "bob", "/goal add Open a tourism data hub")  # due 2027-02-22
    say(programme, "bob", "/goal add Train civil servants due=2026-12-10")  # set within a month of its date
    say(programme, "ana", "/city register Riga country=LV")
    assert due_checkins(programme) == []

    clock.set(datetime(2026, 12, 10, 6, tzinfo=UTC))
    [notice] = due_checkins(programme)
    assert notice.recipients == ("bea", "bob")
    assert notice.reply.plain() == (
        "Check-in: goal #2 of Kraków is due today.\nTrain civil servants\nWhere did it get to?"
    )
    assert due_checkins(programme) == [], "the same check-in is never sent twice"

    clock.set(datetime(2027, 1, 22, 8, tzinfo=UTC))
    [notice] = due_checkins(programme)
    assert notice.reply.plain() == (
        "Check-in: goal #1 of Kraków is due in a month, on 2027-02-22.\nOpen a tourism data hub\nHow is it going?"
    )
    buttons = notice.reply.sections[0].buttons
    assert [(b.label, b.command) for b in buttons][:3] == [
        ("On track", "/goal update 1 on-track"),
        ("At risk", "/goal update 1 at-risk"),
        ("Done", "/goal update 1 done"),
    ]
    clock.advance(timedelta(hours=1))
    assert due_checkins(programme) == []
    # The rep answers with the button; the due-date check-in of a closed goal is not sent.
    assert say(programme, "bea", buttons[2].command).startswith("Goal #1 of Kraków is now done.")
    assert goal_row(programme, 1)[1][-1] == ("done", None)
    clock.set(datetime(2027, 2, 22, 9, tzinfo=UTC))
    assert due_checkins(programme) == []
    with unit_of_work(programme.engine) as session:
        sent = goal_queries.checkins_sent(session=session, goal_ids=[1, 2])
    assert sent == {1: {"month-before"}, 2: {"due"}}


def test_a_goal_overdue_while_the_bot_was_down_gets_one_late_due_check_in(programme, clock):
    say(programme, "bob", "/goal add Open a tourism data hub")
    clock.set(datetime(2027, 3, 10, 9, tzinfo=UTC))
    [notice] = due_checkins(programme)
    assert notice.reply.plain().splitlines()[0] == "Check-in: goal #1 of Kraków is due since 2027-02-22."
    assert due_checkins(programme) == []


def test_a_city_without_reps_gets_its_check_in_once_a_rep_is_approved(programme, clock):
    say(programme, "bob", "/goal add Open a tourism data hub due=2026-12-01")
    say(programme, "ana", "/city role @bob none")
    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert due_checkins(programme) == []
    say(programme, "bea", "/city join Kraków")
    say(programme, "ana", "/city approve @bea Kraków")
    [notice] = due_checkins(programme)
    assert notice.recipients == ("bea",)


def test_weekly_digest_one_per_expert_grouped_per_cohort(programme, clock):
    say(programme, "ana", "/city role @max expert")
    say(programme, "bob", "/goal add Train civil servants due=2026-12-01")  # due soon
    say(programme, "lea", "/goal add Green procurement due=2026-11-25")  # will be overdue
    say(programme, "pia", "/city join Porto")
    say(programme, "ana", "/city approve @pia Porto")
    say(programme, "pia", "/goal add Porto <!here> harbour plan due=2026-12-10")
    say(programme, "pia", "/goal add Cruise terminal due=2027-01-30")  # in no bucket
    clock.set(datetime(2026, 11, 30, 7, tzinfo=UTC))  # the goals above were set 7 days and 22 hours ago
    say(programme, "bob", "/goal add Open a tourism data hub")  # far off, but new this week
    say(programme, "lea", "/goal update 2 at-risk waiting for the council")
    notices = weekly_digest(programme)
    assert [n.recipients for n in notices] == [("eve",), ("max",)]
    text = notices[0].reply.plain()
    assert text.splitlines() == [
        "Weekly goals digest, 2026-11-30",
        "ICC 2020",
        "Due in the next 14 days (1)",
        "• #1 Kraków · not yet reported · due 2026-12-01 · Train civil servants",
        "Overdue (1)",
        "• #2 Łódź · at-risk · due 2026-11-25 · Green procurement",
        "Changed in the last 7 days (2)",
        "• #2 Łódź · at-risk · due 2026-11-25 · Green procurement",
        "• #5 Kraków · not yet reported · due 2027-02-28 · Open a tourism data hub",
        "Mission",
        "Due in the next 14 days (1)",
        "• #3 Porto · not yet reported · due 2026-12-10 · Porto <!here> harbour plan",
    ]
    assert notices[1].reply.plain() == text
    assert [n.recipients for n in weekly_digest(programme, only={"max"})] == [("max",)]


def test_weekly_digest_counts_days_in_each_experts_zone(programme, clock):
    say(programme, "bob", "/goal add Train civil servants due=2026-12-01")
    handle(programme, Request("kai", "kai", "city", "tracks", tz="Pacific/Auckland"))
    say(programme, "ana", "/city role @kai expert")
    clock.set(datetime(2026, 12, 9, 12, tzinfo=UTC))  # already 10 December in Auckland
    digests = {n.recipients[0]: n.reply.plain() for n in weekly_digest(programme)}
    assert digests["eve"].splitlines()[0] == "Weekly goals digest, 2026-12-09"
    assert digests["kai"].splitlines()[0] == "Weekly goals digest, 2026-12-10"
    assert "Overdue (1)" in digests["eve"]


def test_weekly_digest_is_written_in_each_experts_language(programme, clock):
    say(programme, "ana", "/city role @max expert")
    say(programme, "bob", "/goal add Train civil servants due=2026-12-01")
    clock.set(datetime(2026, 11, 30, 7, tzinfo=UTC))
    say(programme, "max", "/city language pl")
    digests = {n.recipients[0]: n.reply.plain().splitlines() for n in weekly_digest(programme)}
    assert digests["eve"][0] == "Weekly goals digest, 2026-11-30"  # English is seen, where it is meant
    assert digests["eve"][2] == "Due in the next 14 days (1)"
    assert digests["max"][0].startswith("Tygodniowe podsumowanie celów")
    assert "Due in the next" not in "\n".join(digests["max"])
    assert "Train civil servants" in "\n".join(digests["max"])  # what people wrote stays as written


def test_weekly_digest_with_nothing_to_say_still_says_so(programme):
    [first, *_] = weekly_digest(programme)
    assert first.reply.plain().splitlines()[1] == (
        "No goals are due in the next 14 days, overdue, or changed in the last 7 days."
    )
