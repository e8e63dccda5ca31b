"""/match as a conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

import core.rounds as rounds
from core.clock import FakeClock
from handlers.dispatch import handle
from handlers.forms import FORMS
from handlers.home import home
from handlers.match import REINTRODUCE_AFTER, due_followups
from handlers.types import Request, Section, Services
from storage.db import unit_of_work
from storage.models import Introduction
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot

# The first person to speak is the admin; then the cities and their reps.
SETUP = [
    "/city register Brno country=CZ cohort=ICC",
    "/city register Porto country=PT mentor=yes cohort=ICC",
    "/city register Riga country=LV cohort=ICC",
    "/city register Kraków country=PL cohort=ICC",
    "/city register Łódź country=PL",
]
REPS = {"ana": "Brno", "rui": "Porto", "ilze": "Riga", "ola": "Kraków"}


@pytest.fixture
def programme(services: Services) -> Services:
    for line in SETUP:
        assert "Registered" in say(services, "admin", line)
    for user, city in REPS.items():
        say(services, user, f"/city join {city}")
        assert "now represents" in say(services, "admin", f"/city approve @{user} {city}")
    say(services, "admin", "/city role @eve expert")
    for user, line in [
        ("ana", "/city interests green-economy, upskilling"),
        ("ana", "/city need open data platform for mobility"),
        ("ana", "/city offer participatory budgeting"),
        ("rui", "/city interests green-economy"),
        ("rui", "/city offer an open data platform for urban mobility"),
        ("ilze", "/city interests green-economy, tourism"),
        ("ilze", "/city need participatory budgeting with citizens"),
        ("ola", "/city interests tourism"),
    ]:
        assert "Brno" not in say(services, user, line) or user == "ana"
    return services


def test_match_lists_cities_with_reasons_and_buttons(programme: Services) -> None:
    reply = ask(programme, "ana", "/match")
    text = reply.plain()
    assert text.splitlines()[0] == "Cities for Brno, best first:"
    assert "1. Porto (PT)" in text
    assert "You both work on Green economy and local green deals" in text
    assert "Porto offers an open data platform for urban mobility, which you need" in text
    assert "you offer participatory budgeting, which Riga needs" in text
    assert "Kraków" not in text and "Łódź" not in text  # nothing in common
    porto = reply.sections[1]
    assert [(b.label, b.command) for b in porto.buttons] == [
        ("Introduce us", "/match intro Porto"),
        ("Not a fit", "/match notfit Porto"),
    ]


def test_user_text_stays_a_value(programme: Services) -> None:
    say(programme, "rui", "/city offer <!channel> *bold* {braces}")
    reply = ask(programme, "ana", "/match")
    templates = " ".join(s.text.template for s in reply.sections)
    assert "<!channel>" not in templates and "{braces}" not in templates


def test_count_and_track_options(programme: Services) -> None:
    assert say(programme, "ana", "/match 1").count("(") == 1
    assert "Riga" in say(programme, "ana", "/match track=green-economy")
    on_tourism = say(programme, "ana", "/match track=tourism")
    assert "Riga" in on_tourism and "Porto" not in on_tourism and "Kraków" not in on_tourism
    text = say(programme, "ana", "/match track=upskilling")
    assert text == "No city on Upskilling and reskilling has anything in common with Brno yet."


def test_bad_input_is_one_line_and_changes_nothing(programme: Services) -> None:
    for line, expected in [
        ("/match top many", "Ask for 1 to 20 cities, not `many`."),
        ("/match top 99", "Ask for 1 to 20 cities, not `99`."),
        ("/match 2 3", "Expected: /match [<n>] [track=<track>] [city=<name>]"),
        ("/match top trak=tourism", "Unknown option `trak=`."),
        ("/match intro Atlantis", "No city called `Atlantis`. See /city list."),
        ("/match intro Brno", "That is your own city."),
        ("/match pause soon", "`soon` is not a duration"),
        ("/match outcome x met", "Expected: /match outcome"),
        ("/match ²", "Ask for 1 to 20 cities, not `²`."),
        ("/match 0", "Ask for 1 to 20 cities, not `0`."),
        ("/match outcome 1 maybe", "Answer met or not-met, then one of shared-practice"),
        ("/match outcome 99999999999 met site-visit", "The introduction is a whole number up to 2,147,483,647"),
        ("/match resume now", "`now` is more than this command takes. Expected: /match resume"),
    ]:
        reply = ask(programme, "ana", line)
        assert reply.error and "\n" not in reply.plain() and expected in reply.plain(), (line, reply.plain())
    assert "No introduction yet (5)" in say(programme, "admin", "/match stats")


def test_empty_answers_say_what_to_declare(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL")
    say(programme, "gosia", "/city join Gdańsk")
    say(programme, "admin", "/city approve @gosia Gdańsk")
    assert say(programme, "gosia", "/match top") == (
        "No matches for Gdańsk yet: declare tracks (/city interests <track>, ...) or offers (/city offer <text>) "
        "or needs (/city need <text>) to get some."
    )
    say(programme, "gosia", "/city interests supply-chains")
    assert "declaring offers (/city offer <text>) or needs" in say(programme, "gosia", "/match top")


def test_not_a_fit_removes_a_city_for_that_asker_only(programme: Services) -> None:
    assert "Porto" in say(programme, "ana", "/match top")
    assert say(programme, "ana", "/match notfit Porto") == (
        "Porto will no longer be suggested to Brno. `/match fit Porto` undoes it."
    )
    assert "Porto" not in say(programme, "ana", "/match top")
    assert "Porto" in say(programme, "ilze", "/match top")  # Riga still sees Porto
    assert (
        say(programme, "ana", "/match notfit") == "Not suggested to Brno: Porto. `/match fit <name>` brings one back."
    )
    assert say(programme, "ana", "/match fit Porto") == "Porto can be suggested to Brno again."
    assert "Porto" in say(programme, "ana", "/match top")


def test_the_index_follows_profile_changes(programme: Services) -> None:
    assert "Kraków" not in say(programme, "ana", "/match top")
    say(programme, "ola", "/city offer open data platform for mobility planning")
    assert "Kraków offers open data platform for mobility planning" in say(programme, "ana", "/match top")
    say(programme, "ola", "/city offer remove 1")
    assert "Kraków" not in say(programme, "ana", "/match top")


def test_intro_opens_one_conversation_and_is_recorded(programme: Services) -> None:
    reply = ask(programme, "ana", "/match intro Porto")
    assert reply.plain() == "Introduced Brno and Porto (introduction 1): one conversation with 2 people is opening."
    (notice,) = reply.notices
    assert notice.together and notice.recipients == ("ana", "rui")
    message = notice.reply.plain()
    assert "@ana of Brno (Czechia), meet @rui of Porto (Portugal)." in message
    assert "Why: both work on Green economy and local green deals; Porto offers an open data platform" in message
    assert "Porto offers: an open data platform for urban mobility" in message
    assert "Brno needs: open data platform for mobility" in message
    assert "This is introduction 1. Once you have talked, `/match outcome 1 met joint-proposal`" in message
    with unit_of_work(programme.engine) as session:
        (row,) = session.exec(select(Introduction)).all()
        assert row.reasons and row.reasons[0]["kind"] == "SharedTracks"


def test_the_same_pair_is_not_introduced_twice_within_90_days(programme: Services, clock: FakeClock) -> None:
    say(programme, "ana", "/match intro Porto")
    again = ask(programme, "rui", "/match intro Brno")
    assert again.error and again.plain() == (
        "Porto and Brno were introduced on Sun 22 Nov 2026 (introduction 1); add again=yes to introduce them again."
    )
    assert not again.notices
    assert "Introduced Porto and Brno" in say(programme, "rui", "/match intro Brno again=yes")
    clock.advance(REINTRODUCE_AFTER + timedelta(days=1))
    assert "Introduced Brno and Porto" in say(programme, "ana", "/match intro Porto")
    assert "3 introductions" in say(programme, "admin", "/match stats")


def test_intro_needs_reps_on_both_sides(programme: Services) -> None:
    assert (
        say(programme, "ana", "/match intro Łódź") == "Łódź has no representative yet, so there is nobody to introduce."
    )


def test_pause_hides_a_city_and_resume_brings_it_back(programme: Services, clock: FakeClock) -> None:
    assert "Porto" in say(programme, "ana", "/match top")
    assert say(programme, "rui", "/match pause 30d") == (
        "Porto is paused until Tue 22 Dec 2026, 10:00 CET: no suggestions, no rounds. `/match resume` restarts it."
    )
    assert "Porto" not in say(programme, "ana", "/match top")
    assert "Porto paused matching until" in say(programme, "ana", "/match intro Porto")
    assert "Porto paused matching until" in say(programme, "rui", "/match top")
    assert say(programme, "rui", "/match resume") == "Porto is back in suggestions and rounds."
    assert "Porto" in say(programme, "ana", "/match top")
    say(programme, "rui", "/match pause 1d")
    clock.advance(timedelta(days=2))
    assert "Porto" in say(programme, "ana", "/match top")  # a pause ends by itself
    assert say(programme, "rui", "/match resume") == "Porto was not paused."


def test_permissions(programme: Services) -> None:
    assert say(programme, "stranger", "/match top") == (
        "You do not represent a city yet, so you cannot ask for matches. Ask with /city join <name>."
    )
    assert say(programme, "ana", "/match top city=Porto") == (
        "Only experts, organisers and admins can ask for another city's matches."
    )
    assert say(programme, "ana", "/match round") == "Only admins and organisers can run matching rounds."
    assert say(programme, "ana", "/match stats") == "Only admins, experts and organisers can see matching statistics."
    assert say(programme, "eve", "/match top") == "You do not represent a city: name one with city=<name>."
    expert_view = ask(programme, "eve", "/match top city=Brno")
    assert "Porto offers an open data platform for urban mobility, which Brno needs" in expert_view.plain()
    assert expert_view.sections[1].buttons == []  # an expert reads; a button would only say they may not
    organiser_view = ask(programme, "admin", "/match top city=Brno")
    assert organiser_view.sections[1].buttons[0].command == '/match intro Porto city="Brno"'
    assert (
        say(programme, "eve", '/match intro Porto city="Brno"')
        == "Only organisers and admins can act for another city."
    )
    assert "Introduced Brno and Porto" in say(programme, "admin", '/match intro Porto city="Brno"')
    assert "Matching in all cities" in say(programme, "eve", "/match stats")


def test_round_pairs_a_cohort_without_repeats(programme: Services) -> None:
    dry = ask(programme, "admin", "/match round cohort=ICC dry=yes")
    assert dry.plain().startswith("Dry run for cohort ICC, nothing sent: 2 pairs.")
    assert not dry.notices
    assert "No introduction yet (5)" in say(programme, "admin", "/match stats")
    first = ask(programme, "admin", "/match round cohort=ICC")
    assert first.plain().startswith("Round 1 for cohort ICC: 2 pairs; introductions sent.")
    assert len(first.notices) == 2 and all(n.together for n in first.notices)
    first_pairs = {frozenset(n.recipients) for n in first.notices}
    second = ask(programme, "admin", "/match round cohort=ICC")
    second_pairs = {frozenset(n.recipients) for n in second.notices}
    assert len(second_pairs) == 2 and not first_pairs & second_pairs
    assert "No introduction yet (1): Łódź." in say(programme, "admin", "/match stats")


def test_round_with_an_odd_city_makes_a_trio_and_skips_paused_ones(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")
    say(programme, "gosia", "/city join Gdańsk")
    say(programme, "admin", "/city approve @gosia Gdańsk")
    text = say(programme, "admin", "/match round cohort=ICC dry=yes")
    assert "1 pair and 1 trio" in text
    say(programme, "ola", "/match pause 2w")
    text = say(programme, "admin", "/match round cohort=ICC dry=yes")
    assert "2 pairs." in text and "Paused, not paired: Kraków (until Sun 6 Dec 2026, 10:00 CET)." in text


def _groups(text: str) -> list[str]:
    """The group lines of a round's reply: "*A + B* · …" with the markup gone."""
    return [line.split(" · ")[0] for line in text.splitlines() if " + " in line.split(" · ")[0]]


def test_a_round_pairs_only_cities_with_a_rep_that_are_not_paused(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")  # nobody represents it
    say(programme, "ola", "/match pause 2w")
    dry = say(programme, "admin", "/match round cohort=ICC dry=yes")
    assert dry.startswith("Dry run for cohort ICC, nothing sent: 1 trio.")
    assert _groups(dry) == ["Brno + Porto + Riga"]
    assert "No representative yet, not paired: Gdańsk." in dry
    assert "Paused, not paired: Kraków (until Sun 6 Dec 2026, 10:00 CET)." in dry
    reply = ask(programme, "admin", "/match round cohort=ICC")
    (notice,) = reply.notices
    assert sorted(notice.recipients) == ["ana", "ilze", "rui"]
    message = notice.reply.plain()
    assert "@ana of Brno (Czechia), meet @rui of Porto (Portugal)." in message
    assert "…and @ilze of Riga (Latvia)." in message
    assert "Gdańsk" not in message and "Kraków" not in message and " of " in message
    assert "Brno + Porto + Riga · introductions 1, 2, 3 · " in reply.plain()
    assert "These are introductions 1 (Brno + Porto), 2 (Brno + Riga), 3 (Porto + Riga)." in message
    with unit_of_work(programme.engine) as session:
        pairs = {frozenset((i.city_a_id, i.city_b_id)) for i in session.exec(select(Introduction))}
    assert len(pairs) == 3  # the trio's three pairs, and nothing with Gdańsk or Kraków
    stats = say(programme, "admin", "/match stats cohort=ICC")
    assert "No introduction yet (2): Gdańsk, Kraków." in stats
    assert "No representative yet, so left out of rounds: Gdańsk." in stats


def test_a_city_whose_rep_comes_late_is_paired_in_a_later_round(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")
    first = ask(programme, "admin", "/match round cohort=ICC")
    assert "Gdańsk" not in " ".join(_groups(first.plain())) and len(first.notices) == 2
    say(programme, "gosia", "/city join Gdańsk")
    say(programme, "admin", "/city approve @gosia Gdańsk")
    second = ask(programme, "admin", "/match round cohort=ICC")
    assert any("Gdańsk" in group for group in _groups(second.plain()))
    assert any("gosia" in n.recipients for n in second.notices)
    assert "No representative yet" not in second.plain()
    stats = say(programme, "admin", "/match stats cohort=ICC")
    assert "Every city has had an introduction." in stats and "No representative yet" not in stats


def test_a_round_never_gives_a_reason_it_did_not_score(programme: Services) -> None:
    for city, user in (("Gent", "gert"), ("Vigo", "vera")):
        say(programme, "admin", f"/city register {city} country=BE cohort=Lab")
        say(programme, user, f"/city join {city}")
        say(programme, "admin", f"/city approve @{user} {city}")
    asked = ask(programme, "gert", "/match intro Vigo again=yes")
    assert "Why: introduced on request." in asked.notices[0].reply.plain()  # true for an intro someone asked for
    say(programme, "admin", "/match round cohort=ICC")  # rounds are numbered per cohort
    reply = ask(programme, "admin", "/match round cohort=Lab")
    assert "Gent + Vigo" not in reply.plain() and not reply.notices  # introduced on request: no repeat
    assert reply.plain().startswith("No new pair is possible in cohort Lab this round")  # so it is not numbered
    say(programme, "admin", "/city register Lund country=SE cohort=Lab")
    say(programme, "lars", "/city join Lund")
    say(programme, "admin", "/city approve @lars Lund")
    reply = ask(programme, "admin", "/match round cohort=Lab")
    (notice,) = reply.notices
    message = notice.reply.plain()
    assert "introduced on request" not in message
    assert "Why: matched in round 1 for cohort Lab." in message


def test_a_round_never_pairs_a_city_with_one_it_marked_not_a_fit(programme: Services) -> None:
    def partner_of_brno() -> str:
        text = say(programme, "admin", "/match round cohort=ICC dry=yes")
        [pair] = [line.split(" · ")[0] for line in text.splitlines() if "Brno" in line.split(" · ")[0]]
        return next(name for name in ("Porto", "Riga", "Kraków") if name in pair)

    first = partner_of_brno()
    say(programme, "ana", f"/match notfit {first}")
    second = partner_of_brno()
    assert second != first
    say(programme, "ana", f"/match notfit {second}")
    assert partner_of_brno() not in (first, second)


@pytest.fixture
def by_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rounds matched by parts of two cities however small, recording each round's size."""
    calls: list[int] = []
    by_parts = rounds._match_by_parts

    def recorded(size: int, *args: object) -> list[int]:
        calls.append(size)
        return by_parts(size, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(rounds, "EXACT_ROUND_LIMIT", 0)
    monkeypatch.setattr(rounds, "ROUND_PART_SIZE", 2)
    monkeypatch.setattr(rounds, "_match_by_parts", recorded)
    return calls


def test_rounds_matched_by_parts_keep_the_rules(programme: Services, by_parts: list[int]) -> None:
    first = ask(programme, "admin", "/match round cohort=ICC")
    assert first.plain().startswith("Round 1 for cohort ICC: 2 pairs; introductions sent.")
    assert by_parts == [4]  # the four cities of ICC went through the large-round path
    first_pairs = {frozenset(n.recipients) for n in first.notices}
    second = ask(programme, "admin", "/match round cohort=ICC")
    second_pairs = {frozenset(n.recipients) for n in second.notices}
    assert len(first_pairs) == len(second_pairs) == 2 and not first_pairs & second_pairs
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")
    say(programme, "ola", "/match pause 2w")
    text = say(programme, "admin", "/match round cohort=ICC dry=yes")
    assert "Paused, not paired: Kraków (until" in text and "Kraków +" not in text and "+ Kraków" not in text
    assert len(by_parts) == 3


def test_follow_ups_are_sent_once_when_due_and_outcomes_recorded(programme: Services, clock: FakeClock) -> None:
    say(programme, "ana", "/match intro Porto")
    assert due_followups(programme) == []
    clock.advance(timedelta(days=14))
    notices = due_followups(programme)
    assert sorted(n.recipients for n in notices) == [("ana",), ("rui",)]
    assert not any(n.together for n in notices)
    to_ana = next(n for n in notices if n.recipients == ("ana",))
    assert "Brno was introduced to Porto" in to_ana.reply.plain()
    buttons = [b.command for s in to_ana.reply.sections for b in s.buttons]
    assert "/match outcome 1 met joint-proposal" in buttons and "/match outcome 1 not-met" in buttons
    assert due_followups(programme) == []  # marked sent in the same transaction
    assert say(programme, "ana", "/match outcome 1 met joint-proposal") == (
        "Thanks: recorded for Brno and Porto: met, a joint proposal."
    )
    assert say(programme, "ilze", "/match outcome 1 met site-visit") == (
        "Introduction 1 is between Brno and Porto; only their representatives answer for it."
    )
    assert "one of shared-practice" in say(programme, "rui", "/match outcome 1 met lunch")
    assert say(programme, "rui", "/match outcome 1 not-met") == "Thanks: recorded for Porto and Brno: not met yet."
    stats = say(programme, "admin", "/match stats")
    assert "1 introductions (0 from rounds), 1 met." in stats
    assert "Outcomes: 0 shared practice, 1 joint proposal, 0 site visit, 0 nothing yet." in stats
    assert "Follow-ups sent: 1; answered by at least one side: 1." in stats


def test_history_survives_a_rep_leaving(programme: Services) -> None:
    say(programme, "ana", "/match notfit Riga")
    say(programme, "ana", "/match intro Porto")
    say(programme, "admin", "/city role @ana none")
    say(programme, "bea", "/city join Brno")
    say(programme, "admin", "/city approve @bea Brno")
    assert "Riga" not in say(programme, "bea", "/match top")
    assert "were introduced on" in say(programme, "bea", "/match intro Porto")


def test_similar_open_goals_count_and_closed_ones_do_not(programme: Services) -> None:
    assert "Kraków" not in say(programme, "ana", "/match top")
    say(programme, "ana", "/goal add Open a one-stop shop for energy renovation of homes")
    added = say(programme, "ola", "/goal add Launch a one-stop shop for home energy renovation")
    assert added.startswith("Goal #2 for Kraków")
    text = say(programme, "ana", "/match top")
    assert "Your goal Open a one-stop shop for energy renovation of homes is close to theirs: Launch a" in text
    say(programme, "ola", "/goal update 2 dropped")
    assert "Kraków" not in say(programme, "ana", "/match top")


def test_a_pause_of_nothing_is_refused_and_keeps_the_pause_running(programme: Services) -> None:
    say(programme, "rui", "/match pause 2w")
    assert "Porto paused matching until Sun 6 Dec 2026, 10:00 CET" in say(programme, "ana", "/match intro Porto")
    for line in ("/match pause 0d", "/match pause 0w", "/match pause 30m"):
        reply = ask(programme, "rui", line)
        assert reply.error and reply.plain() == (
            "A pause is at least 1 day and at most 366 days, e.g. /match pause 2w; /match resume ends a pause."
        ), line
    assert "Porto paused matching until Sun 6 Dec 2026, 10:00 CET" in say(programme, "ana", "/match intro Porto")
    too_long = ask(programme, "rui", "/match pause 367d")
    assert too_long.error and too_long.plain() == (
        "A pause is at least 1 day and at most 366 days, e.g. /match pause 2w; /match resume ends a pause."
    )
    assert "until Tue 23 Nov 2027, 10:00 CET" in say(programme, "rui", "/match pause 366d")
    assert "until Mon 23 Nov 2026, 10:00 CET" in say(programme, "rui", "/match pause 1d")


def test_stats_count_each_introduction_once_whatever_each_side_answered(programme: Services, clock: FakeClock) -> None:
    say(programme, "ana", "/match intro Porto")
    say(programme, "ilze", "/match intro Kraków")
    for user, line in [
        ("ana", "/match outcome 1 met shared-practice"),
        ("rui", "/match outcome 1 met joint-proposal"),
        ("ilze", "/match outcome 2 met site-visit"),
        ("ola", "/match outcome 2 met site-visit"),
    ]:
        assert say(programme, user, line).startswith("Thanks"), line
    stats = say(programme, "admin", "/match stats")
    assert "2 introductions (0 from rounds), 2 met." in stats
    assert "Outcomes: 1 shared practice, 1 joint proposal, 1 site visit, 0 nothing yet." in stats
    assert "Follow-ups sent: 0." in stats and "answered by at least one side" not in stats
    assert "Answered before any follow-up was sent: 2." in stats
    say(programme, "ana", "/match intro Riga")
    clock.advance(timedelta(days=14))
    notices = due_followups(programme)
    assert "Introduction 3: on 2026-11-22, Brno was introduced to Riga. Did you meet" in [
        n.reply.plain()[:72] for n in notices
    ]
    say(programme, "ilze", "/match outcome 3 not-met")
    say(programme, "ana", "/match outcome 3 met nothing-yet")
    stats = say(programme, "admin", "/match stats")
    assert "3 introductions (0 from rounds), 3 met." in stats
    assert "Outcomes: 1 shared practice, 1 joint proposal, 1 site visit, 1 nothing yet." in stats
    assert "Follow-ups sent: 3; answered by at least one side: 3." in stats
    assert "Answered before" not in stats


def test_four_cities_two_of_which_met_make_two_pairs(programme: Services) -> None:
    """Issue 21: Brno and Porto were introduced; a round of the four makes two pairs, not a trio and one out."""
    say(programme, "ana", "/match intro Porto")
    for _ in range(3):  # the same whichever ids and weights: a dry run changes nothing
        text = say(programme, "admin", "/match round cohort=ICC dry=yes")
        assert text.startswith("Dry run for cohort ICC, nothing sent: 2 pairs.") and "Not paired" not in text
        assert "Brno + Porto" not in text and len(_groups(text)) == 2


def test_those_left_out_are_told_truly_why(programme: Services) -> None:
    # Brno, Porto and Riga have all met; each can meet only Kraków: one pair, and the other two told why.
    say(programme, "ana", "/match intro Porto")
    say(programme, "ana", "/match intro Riga")
    say(programme, "rui", "/match intro Riga")
    reply = say(programme, "admin", "/match round cohort=ICC dry=yes")
    assert reply.startswith("Dry run for cohort ICC, nothing sent: 1 pair.")
    [group] = _groups(reply)
    partner = group.replace("Kraków", "").strip(" +")
    out = sorted({"Brno", "Porto", "Riga"} - {partner})
    for name in out:
        assert (
            f"Not paired: the only city {name} could meet this round has no room for it: Kraków is paired with "
            f"{partner}, whom {name} has met." in reply
        )
    sent = ask(programme, "admin", "/match round cohort=ICC")
    assert len(sent.notices) == 1
    # Kraków's partner has now met all three others; the next round pairs Kraków with one of the other two
    text = say(programme, "admin", "/match round cohort=ICC")
    assert text.startswith("Round 2 for cohort ICC: 1 pair; introductions sent.")
    assert f"Not paired: {partner} has met all 3 other cities in this round." in text
    [paired] = [n for n in out if f"{n} + Kraków" in text or f"Kraków + {n}" in text]
    [last] = set(out) - {paired}
    assert f"the only city {last} could meet this round has no room for it: Kraków is paired with {paired}" in text
    assert f"{last} + Kraków" in say(programme, "admin", "/match round cohort=ICC")  # round 3: the last pair left
    text = say(programme, "admin", "/match round cohort=ICC")
    assert text.splitlines()[0] == "No new pair is possible in cohort ICC this round; nothing was sent."
    assert all(f"Not paired: {n} has met all 3 other cities in this round." in text for n in REPS.values())
    assert "Round 4" not in say(programme, "admin", "/match round cohort=ICC")  # nothing was numbered


@pytest.mark.parametrize(
    ("subcommand", "values", "line"),
    [
        ("top", {"count": 99}, "/match top 99"),
        ("top", {"count": -1}, "/match top -1"),
        ("top", {"count": 10**12}, "/match top 1000000000000"),
        ("top", {"count": 2, "track": "tourism"}, "/match 2 track=tourism"),
        ("outcome", {"introduction": 1, "outcome": "lunch"}, "/match outcome 1 lunch"),
        ("outcome", {"introduction": 1, "outcome": "site-visit"}, "/match outcome 1 met site-visit"),
        ("pause", {"duration": "soon"}, "/match pause soon"),
    ],
)
def test_values_a_platform_gives_typed_read_as_the_line_does(
    programme: Services, subcommand: str, values: dict[str, object], line: str
) -> None:
    """Discord gives integers and choices as values: the same parsers and checks, so the same answer as typed."""
    say(programme, "ana", "/match intro Riga")  # introduction 1, for the outcome
    typed = ask(programme, "ana", line)
    given = handle(programme, Request("ana", "ana", "match", "", subcommand=subcommand, values=values))
    assert given.plain() == typed.plain() and given.error == typed.error, (given.plain(), typed.plain())


# --- no button leads nowhere ----------------------------------------------------------------------------------


def test_a_city_nobody_represents_is_shown_as_such_and_never_offered_an_introduction(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")
    say(programme, "gosia", "/city join Gdańsk")
    say(programme, "admin", "/city approve @gosia Gdańsk")
    say(programme, "gosia", "/city offer open data platform for mobility and traffic")
    say(programme, "gosia", "/city interests green-economy")
    say(programme, "admin", "/city role @gosia none")  # its representative left: nobody represents it now
    reply = ask(programme, "ana", "/match")
    [gdansk] = [s for s in reply.sections if "Gdańsk" in s.text.plain()]
    assert "Gdańsk has no representative yet: there is nobody to introduce." in gdansk.text.plain()
    assert [(b.label, b.command) for b in gdansk.buttons] == [("Not a fit", "/match notfit Gdańsk")]
    assert say(programme, "ana", "/match intro Gdańsk").endswith(
        "has no representative yet, so there is nobody to introduce."
    )


def test_a_city_already_introduced_says_when_and_offers_a_follow_up_instead(
    programme: Services, clock: FakeClock
) -> None:
    def porto() -> Section:
        [found] = [s for s in ask(programme, "ana", "/match").sections if "Porto" in s.text.plain()]
        return found

    assert [b.label for b in porto().buttons] == ["Introduce us", "Not a fit"]
    say(programme, "ana", "/match intro Porto")
    introduced = porto()
    assert "Introduced on Sun 22 Nov 2026 (introduction 1); how it went is not answered yet." in introduced.text.plain()
    assert [(b.label, b.command, b.form) for b in introduced.buttons] == [
        ("How did it go?", "/match outcome 1", "match-outcome"),
        ("Not a fit", "/match notfit Porto", None),
    ]
    # the follow-up's form asks what came of it and runs the line its answer builds
    form = FORMS["match-outcome"]
    key = form.key_of("/match outcome 1")
    assert form.title_for(key) == "Introduction #1"
    line = form.build({"outcome": "met joint-proposal"}, key)
    assert line == "/match outcome 1 met joint-proposal"
    assert [value for value, _ in form.fields[0].choices][-1] == "not-met"
    assert say(programme, "ana", line).startswith("Thanks: recorded for Brno and Porto: met, a joint proposal.")
    answered = porto()
    assert "Introduced on Sun 22 Nov 2026 (introduction 1): met, a joint proposal." in answered.text.plain()
    assert [b.label for b in answered.buttons] == ["Not a fit"]  # nothing to ask, too soon to meet again
    clock.advance(REINTRODUCE_AFTER + timedelta(days=1))
    again = porto()
    assert [(b.label, b.command) for b in again.buttons][0] == ("Introduce us again", "/match intro Porto again=yes")
    # Home shows the matches as /match does
    page = home(programme, user_id="ana", user_name="ana", tz=None)
    [on_home] = [s for s in page.sections if "Porto" in s.text.plain() and "score" in s.text.plain()]
    assert [b.label for b in on_home.buttons] == ["Introduce us again", "Not a fit"]


def test_a_goals_with_suggests_only_the_introductions_that_can_still_be_made(programme: Services) -> None:
    say(programme, "admin", "/city register Gdańsk country=PL cohort=ICC")
    say(programme, "ana", "/match intro Porto")
    reply = ask(programme, "ana", "/goal add Shared mobility data with=Porto;Riga;Gdańsk")
    lines = [s.text.plain() for s in reply.sections[1:]]
    assert lines == [
        "You named Porto as a collaborator: your cities were introduced on Sun 22 Nov 2026 (introduction 1).",
        "You named Riga as a collaborator: an introduction puts your cities in touch.",
        "You named Gdańsk as a collaborator; it has no representative yet, so nobody to introduce.",
    ]
    assert [[b.command for b in s.buttons] for s in reply.sections[1:]] == [
        ["/match outcome 1", "/match notfit Porto"],  # the first opens the follow-up's form
        ["/match intro Riga", "/match notfit Riga"],
        ["/match notfit Gdańsk"],
    ]


def test_a_pause_that_changes_nothing_says_so_and_one_that_moves_says_from_when(
    programme: Services, clock: FakeClock
) -> None:
    first = say(programme, "rui", "/match pause 30d")
    assert first.startswith("Porto is paused until ")
    before = snapshot(programme.engine)
    again = say(programme, "rui", "/match pause 30d")
    assert again.startswith("Porto is already paused until ") and again.endswith("; nothing changed.")
    assert snapshot(programme.engine) == before
    clock.advance(timedelta(days=1))
    moved = say(programme, "rui", "/match pause 2w")
    assert moved == (
        "Porto was paused until Tue 22 Dec 2026, 10:00 CET; now until Mon 7 Dec 2026, 10:00 CET. "
        "`/match resume` restarts it."
    )
