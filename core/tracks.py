"""Thematic tracks: a configurable list of `key=Name` pairs, shipped with the ICC's five themes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.grammar import GrammarError, shown
from core.i18n import N_
from core.text import closest_names, fold_name

# The five thematic tracks of the Intelligent Cities Challenge (second City Lab, February 2021).
ICC_TRACKS = (
    "green-economy=Green economy and local green deals;"
    "public-administration=Citizen participation and digitisation of public administration;"
    "upskilling=Upskilling and reskilling;"
    "supply-chains=Supply chains, logistics and the economics of mobility;"
    "tourism=Green and digital transition in tourism"
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class Strings:
    """What a person reads when a track they typed is not one: whole messages, values named."""

    NAME_A_TRACK = N_("Name a track; see /city tracks.")
    AMBIGUOUS = N_("`{typed}` could be any of {keys}; say which.")
    NOT_A_TRACK = N_("`{typed}` is not a track. Tracks: {keys} (see /city tracks).")
    NOT_A_TRACK_CLOSE = N_("`{typed}` is not a track. Did you mean {close}? Tracks: {keys} (see /city tracks).")


@dataclass(frozen=True)
class TrackSpec:
    key: str
    name: str


def parse_track_list(spec: str) -> list[TrackSpec]:
    """`key=Name;key=Name` (a name alone gets a key made from it). Raises ValueError when malformed."""
    tracks: list[TrackSpec] = []
    for item in (part.strip() for part in spec.split(";")):
        if not item:
            continue
        key, _, name = item.partition("=") if "=" in item else (slugify(item), "", item)
        key, name = key.strip().lower(), name.strip()
        if not _KEY.match(key) or not name:
            raise ValueError(f"`{item}` is not key=Name with a key of lower-case letters, digits and dashes")
        if any(t.key == key for t in tracks):
            raise ValueError(f"track key `{key}` appears twice")
        tracks.append(TrackSpec(key, name))
    if not tracks:
        raise ValueError("no tracks given")
    return tracks


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "track"


def resolve_track(typed: str, tracks: Sequence[TrackSpec]) -> TrackSpec:
    """A track by key, by name, or by the unique start of either, whatever the case, accents or hyphens."""
    wanted = fold_name(typed)
    if not wanted:
        raise GrammarError(Strings.NAME_A_TRACK.format())
    for track in tracks:
        if wanted in (fold_name(track.key), fold_name(track.name)):
            return track
    starts = [t for t in tracks if fold_name(t.key).startswith(wanted) or fold_name(t.name).startswith(wanted)]
    if len(starts) == 1:
        return starts[0]
    if starts:
        raise GrammarError(Strings.AMBIGUOUS.format(typed=shown(typed), keys=", ".join(t.key for t in starts)))
    keys = ", ".join(t.key for t in tracks)  # keys are typed as they are, in every language
    close = closest_names(typed, [t.key for t in tracks], cutoff=0.7)
    if close:
        raise GrammarError(Strings.NOT_A_TRACK_CLOSE.format(typed=shown(typed), close=close[0], keys=keys))
    raise GrammarError(Strings.NOT_A_TRACK.format(typed=shown(typed), keys=keys))
