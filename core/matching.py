"""Matching scores, their reasons, and matching rounds. Pure: profiles in, matches and groups out.

A city's score for another adds up, with the weights of `Weights`:
- the tracks both work on, each weighted by its rarity (an IDF: a track few cities share counts more);
- the other city's offers that answer this city's needs, and this city's offers that answer the other's
  needs (TF-IDF over character n-grams, so any language and any accent is just text);
- goals that read alike;
- a bonus when the other is a mentor city on a shared track and this city has needs;
- a small bonus when the two have not been introduced yet.

Cities with nothing in common (no shared track, no answered need, no similar goal) are never returned.
`MatchIndex` (in `core.match_index`, with the numerical stack it needs, loaded on first use) is built once and
kept current with `upsert`; a change costs one city's vectors plus a vectorised re-weighting on the next query,
never a rebuild from the database. This module holds the profiles and reasons, and imports nothing heavy;
rounds are planned in `core.rounds` (its names are importable from here too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.rounds import (  # noqa: F401  (rounds were planned here; their names stay importable)
    EXACT_ROUND_LIMIT,
    ROUND_PART_SIZE,
    LeftOut,
    LeftOutReason,
    RoundEdges,
    RoundPlan,
    Taken,
    plan_round,
)


@dataclass(frozen=True)
class Weights:
    """Every knob of the score, in one place."""

    shared_track: float = 1.0  # per shared track, times the track's rarity (1 for a track every city has)
    they_answer_need: float = 3.0  # per need of mine, times how well their best offer answers it
    i_answer_need: float = 1.5  # per need of theirs, times how well my best offer answers it
    similar_goal: float = 1.5  # per goal of mine, times how close their closest goal is
    mentor: float = 1.0  # they are a mentor city on a track we share and I have needs
    not_introduced: float = 0.25  # a small push towards new acquaintances
    min_relevance: float = 0.2  # text similarity below this is shared letters, not shared meaning
    round_candidates: int = 30  # best partners per city kept as edges of a round's graph


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Profile:
    """What a city declared. `goals` are its open goals' texts (empty until goals are recorded)."""

    city_id: int
    name: str
    tracks: frozenset[str] = frozenset()
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    mentor: bool = False
    cohort: int | None = None


# --- reasons: structured, so each platform and language words them its own way ----------------------


@dataclass(frozen=True)
class SharedTracks:
    tracks: tuple[str, ...]  # track keys, rarest first


@dataclass(frozen=True)
class TheyOffer:
    """The candidate offers something the asker needs."""

    offer: str
    need: str
    relevance: float


@dataclass(frozen=True)
class YouOffer:
    """The asker offers something the candidate needs."""

    offer: str
    need: str
    relevance: float


@dataclass(frozen=True)
class SimilarGoals:
    mine: str
    theirs: str
    relevance: float


@dataclass(frozen=True)
class MentorOn:
    tracks: tuple[str, ...]


@dataclass(frozen=True)
class NotYetIntroduced:
    pass


Reason = SharedTracks | TheyOffer | YouOffer | SimilarGoals | MentorOn | NotYetIntroduced


@dataclass(frozen=True)
class Match:
    city_id: int
    name: str
    score: float
    reasons: tuple[Reason, ...]


def __getattr__(name: str) -> Any:
    """`core.matching.MatchIndex` still works, loading the index module (and numpy, scipy) then."""
    if name == "MatchIndex":
        from core.match_index import MatchIndex

        return MatchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
