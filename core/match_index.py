"""The match index: every city's tracks and texts as vectors, scored against one city or, for a round, all.

Loaded on the first /match, so a command line that matches nothing never imports numpy, scipy or scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from core.matching import (
    DEFAULT_WEIGHTS,
    Match,
    MentorOn,
    NotYetIntroduced,
    Profile,
    Reason,
    SharedTracks,
    SimilarGoals,
    TheyOffer,
    Weights,
    YouOffer,
)

# --- text vectors ------------------------------------------------------------------------------------

# Hashing needs no fitted vocabulary, so one city's new text is vectorised alone; accents are folded so
# "mobilité" meets "mobilite", and character n-grams work for any script.
_VECTORIZER = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=(3, 5),
    n_features=2**20,
    alternate_sign=False,
    norm=None,
    strip_accents="unicode",
    lowercase=True,
    dtype=np.float32,
)
KINDS = ("offer", "need", "goal")


class _TextColumn:
    """All items of one kind (offers, needs or goals): raw counts, kept as rows appended and retired."""

    def __init__(self) -> None:
        self.raw = sparse.csr_matrix((0, _VECTORIZER.n_features), dtype=np.float32)
        self.texts: list[str] = []
        self.owner = np.zeros(0, dtype=np.int64)  # city position of each row
        self.alive = np.zeros(0, dtype=bool)
        self._pending_texts: list[str] = []
        self._pending_owner: list[int] = []
        self.weighted = self.raw  # tf-idf rows, unit length; dead rows are all zero
        self.weighted_t = self.raw.T.tocsr()
        self.dirty = False

    def add(self, position: int, texts: Sequence[str]) -> list[int]:
        start = len(self.texts) + len(self._pending_texts)
        kept = [t for t in texts if t.strip()]
        self._pending_texts.extend(kept)
        self._pending_owner.extend([position] * len(kept))
        self.dirty = self.dirty or bool(kept)
        return list(range(start, start + len(kept)))

    def retire(self, rows: Iterable[int]) -> None:
        rows = list(rows)
        if not rows:
            return
        settled = [r for r in rows if r < len(self.texts)]
        self.alive[settled] = False
        pending = {r - len(self.texts) for r in rows if r >= len(self.texts)}
        for offset in pending:
            self._pending_texts[offset] = ""  # an empty text vectorises to a zero row
        self.dirty = True

    def refresh(self) -> None:
        """Append pending rows and re-weight everything: O(non-zeros), vectorised."""
        if not self.dirty:
            return
        if self._pending_texts:
            new = _VECTORIZER.transform(self._pending_texts).tocsr()
            self.raw = sparse.vstack([self.raw, new], format="csr")
            self.texts.extend(self._pending_texts)
            self.owner = np.concatenate([self.owner, np.asarray(self._pending_owner, dtype=np.int64)])
            self.alive = np.concatenate([self.alive, np.asarray([bool(t) for t in self._pending_texts])])
            self._pending_texts, self._pending_owner = [], []
        raw = self.raw.copy()
        raw.data = np.log1p(raw.data)  # sublinear term frequency: a repeated word is not ten times the topic
        keep = sparse.diags(self.alive.astype(np.float32))
        raw = keep @ raw
        raw.eliminate_zeros()
        live = int(self.alive.sum())
        df = np.bincount(raw.indices, minlength=raw.shape[1]).astype(np.float32)
        idf = np.log((1.0 + live) / (1.0 + df)) + 1.0
        raw.data *= idf[raw.indices]
        norms = np.sqrt(np.asarray(raw.multiply(raw).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.weighted = (sparse.diags(1.0 / norms) @ raw).astype(np.float32).tocsr()
        self.weighted_t = self.weighted.T.tocsr()
        self.dirty = False


@dataclass
class _Slot:
    profile: Profile
    rows: dict[str, list[int]] = field(default_factory=dict)


class MatchIndex:
    """Every city's declared profile, ready to score. Build once; `upsert` a city when it changes."""

    def __init__(self, profiles: Iterable[Profile] = (), weights: Weights = DEFAULT_WEIGHTS) -> None:
        self.weights = weights
        self._slots: list[_Slot | None] = []
        self._position: dict[int, int] = {}
        self._track_ids: dict[str, int] = {}
        self._track_keys: list[str] = []
        self._tracks = np.zeros((0, 0), dtype=bool)
        self._mentor = np.zeros(0, dtype=bool)
        self._alive = np.zeros(0, dtype=bool)
        self._has_needs = np.zeros(0, dtype=bool)
        self._columns = {kind: _TextColumn() for kind in KINDS}
        self._rarity: dict[str, float] | None = None  # cached until a city's tracks change
        for profile in profiles:
            self.upsert(profile)

    # --- keeping it current --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._position)

    def __contains__(self, city_id: object) -> bool:
        return city_id in self._position

    def profile(self, city_id: int) -> Profile | None:
        position = self._position.get(city_id)
        slot = self._slots[position] if position is not None else None
        return slot.profile if slot else None

    def profiles(self) -> list[Profile]:
        return [slot.profile for slot in self._slots if slot is not None]

    def upsert(self, profile: Profile) -> None:
        """Add a city or replace what it declared."""
        self._rarity = None
        position = self._position.get(profile.city_id)
        if position is None:
            position = len(self._slots)
            self._slots.append(None)
            self._position[profile.city_id] = position
            self._grow(position + 1)
        else:
            self._retire_rows(position)
        for key in profile.tracks:
            if key not in self._track_ids:
                self._track_ids[key] = len(self._track_keys)
                self._track_keys.append(key)
        if self._tracks.shape[1] < len(self._track_keys):
            wider = np.zeros((self._tracks.shape[0], len(self._track_keys) + 8), dtype=bool)
            wider[:, : self._tracks.shape[1]] = self._tracks
            self._tracks = wider
        self._tracks[position, :] = False
        self._tracks[position, [self._track_ids[k] for k in profile.tracks]] = True
        self._mentor[position] = profile.mentor
        self._alive[position] = True
        self._has_needs[position] = any(n.strip() for n in profile.needs)
        slot = _Slot(profile)
        texts = {"offer": profile.offers, "need": profile.needs, "goal": profile.goals}
        for kind, column in self._columns.items():
            slot.rows[kind] = column.add(position, texts[kind])
        self._slots[position] = slot

    def remove(self, city_id: int) -> None:
        position = self._position.pop(city_id, None)
        if position is None:
            return
        self._rarity = None
        self._retire_rows(position)
        self._slots[position] = None
        self._alive[position] = False
        self._tracks[position, :] = False

    def _retire_rows(self, position: int) -> None:
        slot = self._slots[position]
        if slot is not None:
            for kind, rows in slot.rows.items():
                self._columns[kind].retire(rows)

    def _grow(self, size: int) -> None:
        if size <= len(self._alive):
            return
        capacity = max(size, 2 * len(self._alive), 64)

        def grown(array: np.ndarray) -> np.ndarray:
            bigger = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
            bigger[: len(array)] = array
            return bigger

        self._tracks, self._mentor = grown(self._tracks), grown(self._mentor)
        self._alive, self._has_needs = grown(self._alive), grown(self._has_needs)

    def _refresh(self) -> None:
        for column in self._columns.values():
            column.refresh()

    # --- scoring -------------------------------------------------------------------------------------

    def track_rarity(self) -> dict[str, float]:
        """Each track's weight: ln((1 + cities) / (1 + cities on it)) + 1."""
        if self._rarity is None:
            counts = self._tracks[self._alive].sum(axis=0)
            cities = len(self)
            self._rarity = {
                key: math.log((1 + cities) / (1 + int(counts[i]))) + 1 for key, i in self._track_ids.items()
            }
        return self._rarity

    def _best_per_city(
        self, kind_mine: str, kind_theirs: str, position: int
    ) -> tuple[np.ndarray, tuple[list[int], np.ndarray]]:
        """For each of my `kind_mine` rows, the best relevance per city among their `kind_theirs` rows.

        Returns the relevance summed over my rows per city, and (my rows, row-by-item relevance) for reasons.
        """
        size = len(self._slots)
        slot = self._slots[position]
        assert slot is not None
        mine_column, theirs_column = self._columns[kind_mine], self._columns[kind_theirs]
        rows = [r for r in slot.rows[kind_mine] if mine_column.alive[r]]
        if not rows or theirs_column.weighted.shape[0] == 0:
            return np.zeros(size, dtype=np.float32), (rows, np.zeros((len(rows), 0), dtype=np.float32))
        relevance = (mine_column.weighted[rows] @ theirs_column.weighted_t).toarray()
        relevance[relevance < self.weights.min_relevance] = 0.0
        best = np.zeros((len(rows), size), dtype=np.float32)
        hit_rows, hit_items = np.nonzero(relevance)
        np.maximum.at(best, (hit_rows, theirs_column.owner[hit_items]), relevance[hit_rows, hit_items])
        return best.sum(axis=0), (rows, relevance)

    def _scores(self, position: int, introduced_positions: np.ndarray | None = None) -> dict[str, Any]:
        """Every component of `position`'s score against every city, as arrays over positions."""
        self._refresh()
        w = self.weights
        size = len(self._slots)
        rarity = np.zeros(self._tracks.shape[1], dtype=np.float32)
        for key, value in self.track_rarity().items():
            rarity[self._track_ids[key]] = value
        mine = self._tracks[position]
        shared = self._tracks[:size] & mine
        tracks = (shared.astype(np.float32) @ rarity) * w.shared_track
        they, they_relevance = self._best_per_city("need", "offer", position)
        you, you_relevance = self._best_per_city("offer", "need", position)
        goals, goal_relevance = self._best_per_city("goal", "goal", position)
        common = (tracks > 0) | (they > 0) | (you > 0) | (goals > 0)
        mentor = self._mentor[:size] & shared.any(axis=1) & bool(self._has_needs[position])
        fresh = np.ones(size, dtype=bool)
        if introduced_positions is not None and len(introduced_positions):
            fresh[introduced_positions] = False
        return {
            "tracks": tracks,
            "they": they * w.they_answer_need,
            "you": you * w.i_answer_need,
            "goals": goals * w.similar_goal,
            "mentor": mentor * w.mentor,
            "fresh": fresh * w.not_introduced,
            "common": common & self._alive[:size],
            "relevance": {"offer": they_relevance, "need": you_relevance, "goal": goal_relevance},
        }

    def matches(
        self,
        city_id: int,
        *,
        limit: int = 5,
        exclude: Collection[int] = (),
        introduced: Collection[int] = (),
        track: str | None = None,
    ) -> list[Match]:
        """The best `limit` cities for `city_id`, best first, each with its reasons."""
        position = self._position.get(city_id)
        if position is None or limit <= 0:
            return []
        introduced_positions = np.asarray([self._position[c] for c in introduced if c in self._position], dtype=int)
        parts = self._scores(position, introduced_positions)
        total = sum(parts[name] for name in ("tracks", "they", "you", "goals", "mentor", "fresh"))
        eligible = parts["common"].copy()
        eligible[position] = False
        excluded = [self._position[c] for c in exclude if c in self._position]
        eligible[excluded] = False
        if track is not None:
            column = self._track_ids.get(track)
            eligible &= self._tracks[: len(eligible), column] if column is not None else False
        candidates = np.flatnonzero(eligible)
        if not len(candidates):
            return []
        scores = np.asarray(total)[candidates]
        if len(candidates) > limit:
            top = np.argpartition(-scores, limit - 1)[:limit]
            candidates, scores = candidates[top], scores[top]
        # Ties break by name so an answer does not change between two identical asks.
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], self._slots[candidates[i]].profile.name))
        fresh_set = set(np.flatnonzero(parts["fresh"] > 0).tolist())
        relevance = parts["relevance"]
        return [self._explain(position, int(candidates[i]), float(scores[i]), fresh_set, relevance) for i in order]

    def explain(self, city_id: int, other_id: int, *, introduced: bool = False) -> Match | None:
        """Why `other_id` suits `city_id`, or None when they have nothing in common."""
        position, other = self._position.get(city_id), self._position.get(other_id)
        if position is None or other is None or position == other:
            return None
        parts = self._scores(position, np.asarray([other] if introduced else [], dtype=int))
        if not parts["common"][other]:
            return None
        score = sum(float(parts[name][other]) for name in ("tracks", "they", "you", "goals", "mentor", "fresh"))
        return self._explain(position, other, score, set() if introduced else {other}, parts["relevance"])

    def _explain(
        self, position: int, other: int, score: float, fresh: set[int], relevance: dict[str, tuple[list[int], Any]]
    ) -> Match:
        mine, theirs = self._slots[position], self._slots[other]
        assert mine is not None and theirs is not None
        reasons: list[Reason] = []
        rarity = self.track_rarity()
        shared = sorted(mine.profile.tracks & theirs.profile.tracks, key=lambda k: (-rarity[k], k))
        if shared:
            reasons.append(SharedTracks(tuple(shared)))
        for kind_mine, kind_theirs, make in (("need", "offer", TheyOffer), ("offer", "need", YouOffer)):
            pairs = self._text_pairs(theirs, kind_mine, kind_theirs, relevance[kind_theirs])
            for mine_text, theirs_text, closeness in pairs:
                offer, need = (theirs_text, mine_text) if make is TheyOffer else (mine_text, theirs_text)
                reasons.append(make(offer=offer, need=need, relevance=closeness))
        for mine_text, theirs_text, closeness in self._text_pairs(theirs, "goal", "goal", relevance["goal"]):
            reasons.append(SimilarGoals(mine=mine_text, theirs=theirs_text, relevance=closeness))
        if shared and theirs.profile.mentor and self._has_needs[position]:
            reasons.append(MentorOn(tuple(shared)))
        if other in fresh:
            reasons.append(NotYetIntroduced())
        return Match(theirs.profile.city_id, theirs.profile.name, round(score, 4), tuple(reasons))

    def _text_pairs(
        self, theirs: _Slot, kind_mine: str, kind_theirs: str, computed: tuple[list[int], Any]
    ) -> list[tuple[str, str, float]]:
        """For each of my texts, their closest text when it is relevant enough; most relevant first.

        `computed` is (my rows, my rows' relevance to every item) from the scoring pass, so explaining
        costs a slice, not another product.
        """
        mine_column, theirs_column = self._columns[kind_mine], self._columns[kind_theirs]
        my_rows, all_relevance = computed
        their_rows = [r for r in theirs.rows[kind_theirs] if theirs_column.alive[r]]
        if not my_rows or not their_rows or all_relevance.shape[1] == 0:
            return []
        relevance = all_relevance[:, their_rows]
        pairs = []
        for i, row in enumerate(my_rows):
            j = int(relevance[i].argmax())
            if relevance[i, j] >= self.weights.min_relevance:
                pairs.append((mine_column.texts[row], theirs_column.texts[their_rows[j]], float(relevance[i, j])))
        return sorted(pairs, key=lambda p: -p[2])

    # --- rounds --------------------------------------------------------------------------------------

    def pair_weights(self, city_ids: Sequence[int]) -> dict[tuple[int, int], float]:
        """Symmetric weights between the given cities (both directions added, no freshness bonus).

        Only each city's `round_candidates` best partners are kept, so the graph stays sparse.
        """
        members = [c for c in dict.fromkeys(city_ids) if c in self._position]
        positions = np.asarray([self._position[c] for c in members], dtype=int)
        size = len(members)
        if size < 2:
            return {}
        directed = np.zeros((size, size), dtype=np.float32)
        for i, position in enumerate(positions):
            parts = self._scores(int(position))
            total = sum(parts[name] for name in ("tracks", "they", "you", "goals", "mentor"))
            row = np.where(parts["common"][positions], np.asarray(total)[positions], 0.0)
            directed[i] = row
        np.fill_diagonal(directed, 0.0)
        symmetric = directed + directed.T
        keep = min(self.weights.round_candidates, size - 1)
        edges: dict[tuple[int, int], float] = {}
        for i in range(size):
            best = np.argpartition(-symmetric[i], keep - 1)[:keep] if keep < size else np.arange(size)
            for j in best:
                if j != i and symmetric[i, j] > 0:
                    a, b = sorted((members[i], members[int(j)]))
                    edges[(a, b)] = float(symmetric[i, j])
        return edges
