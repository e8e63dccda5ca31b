"""The /city family as conversations, on SQLite and PostgreSQL."""

import pytest

from storage import queries
from storage.db import unit_of_work
from tests.handlers.conversation import ask, say
from tests.support.outbox import deliver
from tests.support.snapshot import snapshot


@pytest.fixture
def programme(services):
    """ana is the first user (admin); Brno is registered; bob represents it."""
    say(services, "ana", "/city register Brno country=CZ population=380000 cohort=ICC")
    say(services, "bob", "/city join Brno")
    say(services, "ana", "/city approve @bob Brno")
    return services


def test_register_join_approve_declare(services):
    assert say(services, "ana", '/city register Brno country=cz population=380,000 cohort="ICC 2020"') == (
        "Registered Brno (CZ)."
    )
    reply = ask(services, "bob", "/city join brno")
    assert reply.plain() == "Asked to represent Brno. An organiser will approve it; you will hear back here."
    [notice] = deliver(services)  # the organiser's message comes through the delivery ledger
    assert notice.recipient == "ana"
    assert notice.reply.plain() == "@bob asks to represent Brno."
    assert [b.command for b in notice.reply.sections[0].buttons] == [
        "/city approve <@bob> Brno",
        "/city reject <@bob> Brno",
    ]
    # The button's command is what pressing it runs, as the person who presses it.
    approved = ask(services, "ana", notice.reply.sections[0].buttons[0].command)
    assert approved.plain() == "@bob now represents Brno."
    assert approved.notices[0].recipients == ("bob",)
    assert [(m.recipient, m.reply.plain()) for m in deliver(services)] == [
        ("bob", "You now represent Brno (approved by @ana).")
    ]
    assert say(services, "bob", "/city interests Green economy, tour") == (
        "Brno works on: Green economy and local green deals; Green and digital transition in tourism."
    )
    assert say(services, "bob", "/city offer open data platform") == "Added to what Brno offers: open data platform"
    assert say(services, "bob", "/city need tourism flow monitoring") == (
        "Added to what Brno needs: tourism flow monitoring"
    )
    shown = say(services, "carla", "/city show Brno")
    assert shown.splitlines() == [
        "Brno · Czechia (CZ) · population 380,000 · cohort ICC 2020",
        "Tracks: Green economy and local green deals, Green and digital transition in tourism",
        "Offers:",
        "1. open data platform",
        "Needs:",
        "1. tourism flow monitoring",
        "Representatives: @bob",
    ]
    assert say(services, "bob", "/city show") == shown


def test_list_and_tracks(programme):
    say(programme, "ana", "/city register Porto country=PT mentor=yes")
    say(programme, "bob", "/city interests tourism")
    assert say(programme, "carla", "/city list").splitlines() == [
        "2 cities",
        "Brno (CZ) · tourism",
        "Porto (PT) · mentor · no tracks yet",
    ]
    assert say(programme, "carla", "/city list track=tourism cohort=icc").splitlines() == [
        "1 city (track Green and digital transition in tourism, cohort ICC)",
        "Brno (CZ) · tourism",
    ]
    assert say(programme, "carla", "/city list track=upskilling") == (
        "No cities match. Organisers add them with /city register."
    )
    assert "`tourism` Green and digital transition in tourism · 1 city" in say(programme, "carla", "/city tracks")


@pytest.mark.parametrize(
    "user, line, expected",
    [
        ("ana", "/city register Porto", "`country=` is required: an ISO 3166 two-letter code such as CZ or PT."),
        ("ana", "/city register Porto country=XX", "`country=` expects an ISO 3166 two-letter code"),
        ("ana", "/city register Porto country=PT population=many", "`population=` expects a whole number"),
        ("ana", "/city register Porto contry=PT", "Unknown option `contry=`. Did you mean `country=`?"),
        ("ana", "/city register brno country=CZ", "brno is already registered."),
        ("ana", "/city register <!channel> country=CZ", "A city name is 1 to 80 characters"),
        ("ana", "/city register country=PT", "Name the city. Expected: /city register <name>"),
        ("carla", "/city register Porto country=PT", "Only admins and organisers can register cities."),
        ("carla", "/city join Atlantis", "No city called `Atlantis`. See /city list."),
        ("bob", "/city join Brno", "You already represent *Brno*."),
        ("carla", "/city approve @carla Brno", "Only admins and organisers can approve representatives."),
        ("ana", "/city approve carla Brno", "Name the person as @name. Expected: /city approve <@user> <name>"),
        ("ana", "/city reject @carla Brno", "@carla has no open request to represent *Brno*."),
        ("ana", "/city role @carla boss", "The role is one of organiser, expert, rep or none, not `boss`."),
        ("bob", "/city role @carla expert", "Only admins and organisers can grant roles."),
        ("carla", "/city interests tourism", "You do not represent a city yet, so you cannot set interests."),
        ("bob", "/city interests space travel", "`space travel` is not a track. Tracks: green-economy,"),
        ("bob", "/city interests", "Expected: /city interests <track>, <track>, ..."),
        ("bob", "/city offer", "Expected: /city offer <text>"),
        ("bob", "/city offer " + "x" * 501, "Keep it under 500 characters."),
        ("bob", "/city need remove 3", "There is no number 3; see /city show."),
        ("carla", "/city show", "You do not represent a city: name one"),
        ("carla", "/city list cohort=Nope", "No cohort called `Nope`."),
        ("carla", "/city list track=space", "`space` is not a track."),
        ("carla", "/city fly", "Unknown command `/city fly`. Try /city help."),
    ],
)
def test_malformed_or_refused_lines_get_one_line_and_change_nothing(programme, user, line, expected):
    say(programme, "carla", "/city tracks")  # carla exists before the snapshot
    before = snapshot(programme.engine)
    reply = ask(programme, user, line)
    assert reply.error
    assert expected.replace("*", "") in reply.plain()
    assert len(reply.plain().splitlines()) == 1
    assert reply.notices == []
    assert snapshot(programme.engine) == before


def test_help_for_the_family_and_each_command(services):
    family = say(services, "ana", "/city help")
    for usage in ("/city register <name> country=<XX>", "/city join <name>", "/city list [track=<track>]"):
        assert usage in family
    assert say(services, "ana", "/city join help").startswith("`/city join <name>`")
    assert say(services, "ana", "/city help approve").startswith("`/city approve <@user> <name>`")
    assert say(services, "ana", "/city").startswith("/city: cities")


def test_a_repeated_join_is_refused_and_a_reject_tells_the_asker(programme):
    say(programme, "ana", "/city register Porto country=PT")
    say(programme, "carla", "/city join Porto")
    assert "already asked" in say(programme, "carla", "/city join Porto")
    reply = ask(programme, "ana", "/city reject @carla Porto")
    assert reply.plain() == "@carla's request to represent Porto is declined."
    assert reply.notices[0].reply.plain() == "Your request to represent Porto was declined by @ana."
    assert say(programme, "carla", "/city join Porto").startswith("Asked to represent Porto")


def test_roles_admin_organiser_expert(programme):
    assert say(programme, "ana", "/city role @olga organiser") == "@olga is now organiser."
    assert say(programme, "olga", "/city register Porto country=PT") == "Registered Porto (PT)."
    assert say(programme, "olga", "/city role @eve expert") == "@eve is now expert."
    assert "You cannot make @ana" in say(programme, "olga", "/city role @ana none")
    assert "You cannot make @pat organiser" in say(programme, "olga", "/city role @pat organiser")
    removed = ask(programme, "olga", "/city role @bob none")
    assert removed.plain() == "@bob no longer has a role and represents no city."
    [told] = removed.notices  # the person hears of it, as when given a role
    assert told.recipients == ("bob",) and told.reply.plain() == (
        "@olga removed your role in CityPeers: you no longer represent Brno."
    )
    assert "You do not represent a city yet" in say(programme, "bob", "/city offer anything")


def test_a_role_someone_already_has_changes_nothing_and_tells_nobody(programme):
    say(programme, "ana", "/city role @olga organiser")
    assert say(programme, "olga", "/city role @eve expert") == "@eve is now expert."
    before = snapshot(programme.engine)
    again = ask(programme, "olga", "/city role @eve expert")
    assert again.plain() == "@eve is already expert; nothing changed." and again.notices == []
    assert snapshot(programme.engine) == before  # no audit entry, no change
    say(programme, "olga", "/city role @eve none")
    before = snapshot(programme.engine)
    none_again = ask(programme, "olga", "/city role @eve none")
    assert none_again.plain() == "@eve has no role already; nothing changed." and none_again.notices == []
    assert snapshot(programme.engine) == before


def test_organisers_hear_of_join_requests(programme):
    say(programme, "ana", "/city role @olga organiser")
    say(programme, "ana", "/city register Porto country=PT")
    deliver(programme)
    ask(programme, "carla", "/city join Porto")
    assert sorted(m.recipient for m in deliver(programme)) == ["ana", "olga"]


def test_a_morning_of_join_requests_makes_one_message_per_organiser_at_a_time(programme):
    """Requests that arrive before an organiser's message goes out join it; decisions leave a way back to the rest."""
    say(programme, "ana", "/city register Porto country=PT")
    deliver(programme)
    for person in ("p1", "p2", "p3"):
        say(programme, person, "/city join Porto")
    [message] = deliver(programme)
    assert message.recipient == "ana"
    assert message.reply.plain().splitlines() == [
        "3 requests to represent a city",
        "@p1 asks to represent Porto.",
        "@p2 asks to represent Porto.",
        "@p3 asks to represent Porto.",
    ]
    approved = ask(programme, "ana", message.reply.sections[0].buttons[0].command)
    assert approved.plain() == "@p1 now represents Porto.\n2 more waiting."
    assert approved.sections[-1].buttons[0].command == "/city requests"
    assert say(programme, "ana", "/city requests").splitlines()[1:] == [
        "@p2 asks to represent Porto.",
        "@p3 asks to represent Porto.",
    ]
    say(programme, "p4", "/city join Porto")
    for decision in ("/city reject @p4 Porto", "/city approve @p2 Porto", "/city approve @p3 Porto"):
        say(programme, "ana", decision)
    # The message p4's request queued for ana had nothing left to say by the time it could go: it is not sent.
    assert sorted(m.recipient for m in deliver(programme)) == ["p1", "p2", "p3", "p4"]
    assert (
        say(programme, "p2", "/city requests") == "Only admins and organisers can review requests to represent a city."
    )


def test_config_admins_are_admins_and_cannot_be_demoted(database_url, clock):
    from bot.app import build_services
    from tests.conftest import make_settings

    settings = make_settings(database_url, citypeers_admins="U0ADMIN", citypeers_discord_admins="80351110224678912")
    services = build_services(settings, clock=clock)
    assert "Only admins and organisers" in say(services, "first", "/city register Porto country=PT")
    # Admins by configuration are people of their platform: a Slack id and a Discord id.
    assert say(services, "slack:U0ADMIN", "/city register Porto country=PT") == "Registered Porto (PT)."
    assert say(services, "discord:80351110224678912", "/city register Brno country=CZ") == "Registered Brno (CZ)."
    assert "Only admins and organisers" in say(services, "U0ADMIN", "/city register Gdansk country=PL")
    say(services, "slack:U0ADMIN", "/city role @olga organiser")
    assert "admin in the bot's configuration" in say(services, "olga", "/city role <@slack:U0ADMIN|root> none")
    services.engine.dispose()


def test_offers_and_needs_keep_user_text_as_typed_and_can_be_removed(programme):
    say(programme, "bob", "/city offer <!channel> free data & tools")
    say(programme, "bob", "/city offer site visits")
    assert (
        say(programme, "bob", "/city offer remove 1") == "Removed from what Brno offers: <!channel> free data & tools"
    )
    with unit_of_work(programme.engine) as session:
        brno = queries.get_city_by_name(session=session, name="Brno")
        assert [i.text for i in queries.city_items(session=session, city_id=brno.id, kind="offer")] == ["site visits"]


def test_first_user_of_an_empty_database_is_admin(services):
    say(services, "zoe", "/city tracks")
    with unit_of_work(services.engine) as session:
        assert queries.get_member(session=session, external_id="zoe").role == "admin"
    say(services, "yan", "/city tracks")
    with unit_of_work(services.engine) as session:
        assert queries.get_member(session=session, external_id="yan").role == "none"
