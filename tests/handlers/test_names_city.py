"""Names people type: a city or cohort is one thing whatever its case, accents, spaces or hyphens, and a near
miss gets a suggestion, never a dead end. On SQLite and PostgreSQL."""

import pytest

from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot


@pytest.fixture
def polish(services):
    """ana (admin) registered Kraków, Łódź and Saint-Étienne; bob represents Łódź."""
    say(services, "ana", '/city register Kraków country=PL cohort="ICC 2020"')
    say(services, "ana", "/city register Łódź country=PL")
    say(services, "ana", "/city register Saint-Étienne country=FR")
    say(services, "bob", "/city join lodz")
    say(services, "ana", "/city approve @bob LODZ")
    return services


def test_names_a_city_typed_without_accents_is_the_same_city(polish):
    before = snapshot(polish.engine)
    reply = ask(polish, "ana", "/city register krakow country=PL")
    assert reply.error
    assert reply.plain() == "krakow is already registered. It is written Kraków."
    assert snapshot(polish.engine) == before
    assert say(polish, "carla", "/city show lodz").startswith("Łódź · Poland (PL)")
    assert "Representatives: @bob" in say(polish, "carla", "/city show łódź")
    assert say(polish, "carla", "/city show saint etienne").startswith("Saint-Étienne · France (FR)")
    assert say(polish, "carla", "/city show SAINT_ETIENNE").startswith("Saint-Étienne · ")
    assert say(polish, "ana", "/city register saint  étienne country=FR") == (
        "saint étienne is already registered. It is written Saint-Étienne."
    )
    assert say(polish, "carla", "/city list").splitlines()[0] == "3 cities"


def test_names_cohorts_fold_too(polish):
    assert say(polish, "carla", "/city list cohort=icc-2020").splitlines() == [
        "1 city (cohort ICC 2020)",
        "Kraków (PL) · no tracks yet",
    ]
    say(polish, "ana", "/city register Brno country=CZ cohort=icc_2020")
    assert say(polish, "carla", "/city list cohort=ICC2020").startswith("No cohort called")
    assert say(polish, "carla", "/city list cohort=Icc-2020").startswith("2 cities (cohort ICC 2020)")


def test_names_greek_and_cyrillic_names_work(services):
    assert say(services, "ana", "/city register Αθήνα country=GR") == "Registered Αθήνα (GR)."
    assert say(services, "carla", "/city show αθηνα").startswith("Αθήνα · Greece (GR)")
    assert (
        say(services, "ana", "/city register ΑΘΗΝΑ country=GR") == "ΑΘΗΝΑ is already registered. It is written Αθήνα."
    )
    assert say(services, "ana", "/city register Київ country=UA") == "Registered Київ (UA)."
    assert say(services, "carla", "/city show київ").startswith("Київ · Ukraine (UA)")


def test_names_a_name_of_punctuation_alone_is_refused(services):
    reply = ask(services, "ana", "/city register --- country=PL")
    assert reply.error and "letter or digit" in reply.plain()


def test_names_folded_lookups_everywhere(polish):
    say(polish, "bob", "/goal add open data portal")
    assert "open data portal" in say(polish, "ana", "/goal list LODZ")
    assert "Kraków" in say(polish, "ana", "/match city=krakow")


def test_names_a_near_miss_gets_a_suggestion(polish):
    assert say(polish, "carla", "/city show Atlantis") == "No city called `Atlantis`. See /city list."
    assert say(polish, "carla", "/city show Krakov") == "No city called `Krakov`. Did you mean Kraków?"
    assert say(polish, "carla", "/city join Lodsz") == "No city called `Lodsz`. Did you mean Łódź?"
    # the same lookup serves every family
    assert say(polish, "ana", "/goal list Krakov") == "No city called `Krakov`. Did you mean Kraków?"


def test_names_an_unknown_cohort_lists_the_cohorts(polish):
    say(polish, "ana", "/city register Brno country=CZ cohort=Eurocities")
    assert say(polish, "carla", "/city list cohort=icc") == (
        "No cohort called `icc`. Did you mean ICC 2020? Cohorts: Eurocities, ICC 2020."
    )
    assert say(polish, "carla", "/city list cohort=Mission") == (
        "No cohort called `Mission`. Cohorts: Eurocities, ICC 2020."
    )


def test_names_every_family_suggests_the_cohort_meant(polish):
    expected = "No cohort called `icc`. Did you mean ICC 2020? Cohorts: ICC 2020."
    assert say(polish, "ana", "/match round cohort=icc dry=yes") == expected
    assert say(polish, "ana", '/event add Lab start="2027-03-01 10:00" cohort=icc') == expected


def test_names_an_unknown_cohort_when_there_are_none(services):
    assert say(services, "carla", "/city list cohort=icc") == (
        "No cohort called `icc`. There are no cohorts yet; /city register … cohort=<name> makes one."
    )


@pytest.mark.parametrize(
    "typed, zone",
    [("europe/lisbon", "Europe/Lisbon"), ("Lisbon", "Europe/Lisbon"), ("são paulo", "America/Sao_Paulo")],
)
def test_typed_time_zones_in_any_case_or_by_city(services, typed, zone):
    assert say(services, "carla", f"/city timezone {typed}").startswith(f"Times are now shown to you in {zone}:")


def test_typed_time_zone_near_miss_is_suggested(services):
    say(services, "carla", "/city timezone Europe/Prague")
    before = snapshot(services.engine)
    reply = ask(services, "carla", "/city timezone Lisbn")
    assert reply.error and reply.plain() == "`Lisbn` is not a time zone. Did you mean Europe/Lisbon?"
    assert snapshot(services.engine) == before


@pytest.mark.parametrize(
    "line, expected",
    [
        ("/city shwo Brno", "Unknown command `/city shwo`. Did you mean /city show? Try /city help."),
        ("/goal lsit", "Unknown command `/goal lsit`. Did you mean /goal list? Try /goal help."),
        ("/event lst", "Unknown command `/event lst`. Did you mean /event list? Try /event help."),
        ("/match inrto Brno", "Unknown command `/match inrto`. Did you mean /match intro? Try /match help."),
        ("/cty show Brno", "Unknown command /cty. Did you mean /city? Commands: /city, /match, /event, /goal, /help."),
    ],
)
def test_typed_command_slips_get_the_command_meant(services, line, expected):
    reply = ask(services, "ana", line)
    assert reply.error and reply.plain() == expected


def test_typed_help_answers_each_family(services):
    assert say(services, "ana", "/help city") == say(services, "ana", "/city help")
    assert say(services, "ana", "/help goal list") == say(services, "ana", "/goal help list")
    overall = say(services, "ana", "/help")
    for family in ("/city", "/match", "/event", "/goal"):
        assert family in overall
    assert say(services, "ana", "/help cty") == (
        "No command family called `cty`. Did you mean /city? Commands: /city, /match, /event, /goal."
    )


@pytest.mark.parametrize(
    "line", ["/city offer remove one", "/city offer remove", "/city offer REMOVE 1st", "/city offer remove 1 2"]
)
def test_typed_remove_without_a_number_is_refused_with_the_list(polish, line):
    say(polish, "bob", "/city offer open data platform")
    say(polish, "bob", "/city offer bike sharing")
    before = snapshot(polish.engine)
    reply = ask(polish, "bob", line)
    assert reply.error
    assert reply.plain() == (
        "Say which to remove by its number, as in /city offer remove 1: 1. open data platform; 2. bike sharing"
    )
    assert snapshot(polish.engine) == before
    assert say(polish, "bob", "/city offer remove 2") == "Removed from what Łódź offers: bike sharing"


def test_typed_remove_when_nothing_is_listed(polish):
    reply = ask(polish, "bob", "/city need remove")
    assert reply.error and reply.plain() == "Łódź lists no needs yet, so there is nothing to remove."


def test_typed_an_unclosed_quote_registers_nothing(services):
    say(services, "ana", "/city tracks")
    before = snapshot(services.engine)
    reply = ask(services, "ana", '/city register "Unclosed country=DE')
    assert reply.error
    assert (
        reply.plain()
        == 'A quote opened at `"Unclosed country=DE` is never closed; expected a closing ", as in "Den Haag".'
    )
    assert snapshot(services.engine) == before
    assert say(services, "ana", '/city register "Den Haag" country=NL') == "Registered Den Haag (NL)."


def test_names_csv_import_folds_names_and_cohorts(services, tmp_path):
    from handlers.city_import import ImportFailed, import_cities

    say(services, "ana", '/city register Kraków country=PL cohort="ICC 2020"')
    path = tmp_path / "cities.csv"
    path.write_text("name,country,cohort\nKRAKOW,PL,\nSaint-Étienne,FR,icc-2020\nsaint etienne,FR,\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_cities(services, path)
    problems = str(failed.value)
    assert "line 2: KRAKOW is already registered." in problems
    assert "line 4: saint etienne" in problems
    path.write_text("name,country,cohort\nSaint-Étienne,FR,icc-2020\n", encoding="utf-8")
    import_cities(services, path)
    assert say(services, "carla", "/city list cohort=icc_2020").splitlines()[0] == ("2 cities (cohort ICC 2020)")
