"""A name is one thing whatever its case, accents, spaces, hyphens or punctuation."""

import pytest

from core.text import fold_name


@pytest.mark.parametrize(
    "typed, folded",
    [
        ("Kraków", "krakow"),
        ("krakow", "krakow"),
        ("Łódź", "lodz"),
        ("lodz", "lodz"),
        ("Saint-Étienne", "saint etienne"),
        ("saint  etienne", "saint etienne"),
        ("saint_etienne", "saint etienne"),
        ("Tromsø", "tromso"),
        ("Gießen", "giessen"),
        ("Đakovo", "dakovo"),
        ("Reykjavík", "reykjavik"),
        ("L'Aquila", "l aquila"),
        ("  ICC   2020 ", "icc 2020"),
        ("Αθήνα", "αθηνα"),
        ("ΑΘΗΝΑ", "αθηνα"),
        ("Київ", "киів"),
        ("КИЇВ", "киів"),
        ("Москва", "москва"),
    ],
)
def test_names_fold_to_one_key(typed, folded):
    assert fold_name(typed) == folded


def test_names_of_only_punctuation_fold_to_nothing():
    assert fold_name("--- !!") == ""


@pytest.mark.parametrize("typed", ["Green-Economy", "green_economy", "GREEN ECONOMY AND LOCAL GREEN DEALS"])
def test_names_tracks_fold_too(typed):
    from core.tracks import ICC_TRACKS, parse_track_list, resolve_track

    assert resolve_track(typed, parse_track_list(ICC_TRACKS)).key == "green-economy"


def test_names_a_track_near_miss_is_suggested():
    from core.grammar import GrammarError
    from core.tracks import ICC_TRACKS, parse_track_list, resolve_track

    with pytest.raises(GrammarError, match="`turism` is not a track. Did you mean tourism[?] Tracks: green-economy"):
        resolve_track("turism", parse_track_list(ICC_TRACKS))
