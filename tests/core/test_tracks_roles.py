import pytest

from core.grammar import GrammarError
from core.roles import Role, may_grant
from core.tracks import ICC_TRACKS, parse_track_list, resolve_track

TRACKS = parse_track_list(ICC_TRACKS)


def test_icc_tracks_ship_by_default():
    assert [t.key for t in TRACKS] == [
        "green-economy",
        "public-administration",
        "upskilling",
        "supply-chains",
        "tourism",
    ]


@pytest.mark.parametrize("typed", ["tourism", "TOURISM", "Green and digital transition in tourism", "tour"])
def test_resolve_by_key_name_or_unique_start(typed):
    assert resolve_track(typed, TRACKS).key == "tourism"


def test_ambiguous_and_unknown_tracks():
    tracks = parse_track_list("energy=Energy;energy-poverty=Energy poverty")
    assert resolve_track("energy", tracks).key == "energy"
    with pytest.raises(GrammarError, match="is not a track"):
        resolve_track("space", TRACKS)
    with pytest.raises(GrammarError, match="could be any of"):
        resolve_track("en", tracks)


def test_track_list_format():
    assert parse_track_list("Smart mobility")[0].key == "smart-mobility"
    with pytest.raises(ValueError):
        parse_track_list("a=A;a=B")
    with pytest.raises(ValueError):
        parse_track_list(" ; ")


def test_who_may_grant_what():
    assert may_grant(Role.ADMIN, Role.NONE, Role.ORGANISER)
    assert may_grant(Role.ORGANISER, Role.REP, Role.EXPERT)
    assert not may_grant(Role.ORGANISER, Role.NONE, Role.ORGANISER)
    assert not may_grant(Role.ORGANISER, Role.ORGANISER, Role.NONE)
    assert not may_grant(Role.ADMIN, Role.NONE, Role.ADMIN)
    assert not may_grant(Role.REP, Role.NONE, Role.EXPERT)
