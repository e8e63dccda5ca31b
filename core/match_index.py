"""The match index: every city's tracks and texts as vectors, scored against one city or, for a round, all.

Loaded on the first /match, so a command line that matches nothing never imports numpy or scipy.

Compact by design: texts are sparse float32 rows (int32 column indices) kept in city order, tracks a boolean
matrix over interned track ids, and a city's rows a span of each text matrix, so 10,000 cities hold a few
tens of MiB and no Python set or dict per city.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

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
from core.rounds import RoundEdges

# --- text vectors ------------------------------------------------------------------------------------

# Character 3- to 5-grams within word boundaries, accents folded (so "mobilité" meets "mobilite"; any script
# works), each n-gram hashed to one of 2**20 columns. This is exactly scikit-learn's
# HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**20, alternate_sign=False, norm=None,
# strip_accents="unicode") -- tests/core/test_match_vectors.py checks it -- without loading scikit-learn,
# which alone costs some 65 MB of memory. Each distinct n-gram is hashed once and remembered.
N_FEATURES = 2**20
KINDS = ("offer", "need", "goal")
_WHITE_SPACES = re.compile(r"\s\s+")
_GRAM_COLUMNS: dict[str, int] = {}
_M32 = 0xFFFFFFFF


def murmurhash3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 (x86, 32 bits), signed, as scikit-learn's `murmurhash3_32(..., positive=False)`."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _M32
    blocks = len(data) // 4
    for i in range(blocks):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * c1) & _M32
        k = ((k << 15) | (k >> 17)) & _M32
        h ^= (k * c2) & _M32
        h = ((h << 13) | (h >> 19)) & _M32
        h = (h * 5 + 0xE6546B64) & _M32
    tail = data[4 * blocks :]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = (k * c1) & _M32
        k = ((k << 15) | (k >> 17)) & _M32
        h ^= (k * c2) & _M32
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - 2**32 if h & 0x80000000 else h


def _column(gram: str) -> int:
    h = murmurhash3_32(gram.encode("utf-8"))
    column = (2147483647 - (N_FEATURES - 1)) % N_FEATURES if h == -(2**31) else abs(h) % N_FEATURES
    _GRAM_COLUMNS[gram] = column
    return column


def char_ngrams(text: str) -> list[str]:
    """Lower-cased, accents stripped, character 3- to 5-grams of each word padded with a space."""
    text = text.lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    grams: list[str] = []
    append = grams.append
    for word in _WHITE_SPACES.sub(" ", text).split():
        word = f" {word} "
        length = len(word)
        for n in (3, 4, 5):
            offset = 0
            append(word[:n])
            while offset + n < length:
                offset += 1
                append(word[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return grams


VECTORISE_CHUNK = 2048  # texts per piece: a piece's temporaries stay small, so building leaves little garbage


def vectorise(texts: Sequence[str], dtype: Any = np.float32) -> sparse.csr_matrix:
    """Counts of each text's hashed n-grams: float32 (or `dtype`, clipped to it), sorted int32 column indices.

    Texts are counted a piece at a time, into compact arrays (no Python list of every n-gram's column), and
    the pieces are stacked once at the end.
    """
    pieces = [
        _vectorise_piece(texts[start : start + VECTORISE_CHUNK], dtype)
        for start in range(0, len(texts), VECTORISE_CHUNK)
    ]
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return sparse.csr_matrix((0, N_FEATURES), dtype=dtype)
    return sparse.vstack(pieces, format="csr", dtype=dtype)


def _vectorise_piece(texts: Sequence[str], dtype: Any) -> sparse.csr_matrix:
    known = _GRAM_COLUMNS
    columns = array("i")
    lengths = array("i")
    for text in texts:
        grams = char_ngrams(text)
        columns.extend([known[g] if g in known else _column(g) for g in grams])
        lengths.append(len(grams))
    rows = np.repeat(np.arange(len(texts), dtype=np.int32), np.frombuffer(lengths, dtype=np.int32))
    counts = sparse.coo_matrix(
        (np.ones(len(columns), dtype=np.float32), (rows, np.frombuffer(columns, dtype=np.int32))),
        shape=(len(texts), N_FEATURES),
    ).tocsr()
    del rows, columns
    counts.sum_duplicates()
    counts.sort_indices()
    if counts.dtype != np.dtype(dtype):
        counts.data = np.minimum(counts.data, np.iinfo(dtype).max).astype(dtype)
    return counts


def _empty(rows: int, columns: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((rows, columns), dtype=np.float32)


class _TextColumn:
    """All items of one kind (offers, needs or goals): raw counts and tf-idf rows, in city order.

    Rows are added at the end and retired in place; `refresh` puts every live row back in city order and
    drops the retired ones, so a city's rows are one span, `spans[position]`. Raw counts are uint16 (an
    n-gram repeated 65,535 times in one offer is clipped there); the transposed rows, which a query
    multiplies by, are kept over the columns in use (`used`), not all 2^20.
    """

    def __init__(self) -> None:
        self.raw = sparse.csr_matrix((0, N_FEATURES), dtype=np.uint16)
        self.used = np.zeros(0, dtype=np.int32)  # the columns in use, ascending: rows of `weighted_t`
        self.frequency = np.zeros(0, dtype=np.int32)
        self.texts: list[str] = []
        self.owner = np.zeros(0, dtype=np.int32)  # city position of each row, non-decreasing after refresh
        self.alive = np.zeros(0, dtype=bool)
        self.spans = np.zeros((0, 2), dtype=np.int32)  # per city position: [first row, past its last row)
        self._pending: list[tuple[int, str]] = []
        self.weighted = _empty(0, N_FEATURES)  # tf-idf rows, unit length
        self.weighted_t = _empty(0, 0)  # weighted, transposed, over the columns in use
        self.dirty = False

    def add(self, position: int, texts: Sequence[str]) -> None:
        kept = [(position, t) for t in texts if t.strip()]
        self._pending.extend(kept)
        self.dirty = self.dirty or bool(kept)

    def retire(self, position: int) -> None:
        if position < len(self.spans):
            first, past = self.spans[position]
            if past > first:
                self.alive[first:past] = False
                self.dirty = True
        if any(owner == position for owner, _ in self._pending):
            self._pending = [(owner, text) for owner, text in self._pending if owner != position]

    def rows(self, position: int) -> np.ndarray:
        first, past = self.spans[position] if position < len(self.spans) else (0, 0)
        return np.arange(first, past)

    def refresh(self, positions: int) -> None:
        """Append pending rows, drop retired ones, put rows in city order and re-weight: O(non-zeros)."""
        if len(self.spans) < positions:
            self.spans = np.concatenate([self.spans, np.zeros((positions - len(self.spans), 2), dtype=np.int32)])
        if not self.dirty:
            return
        raw, owner, alive, texts = self.raw, self.owner, self.alive, self.texts
        if self._pending:
            counts = vectorise([t for _, t in self._pending], np.uint16)
            raw = counts if raw.shape[0] == 0 else sparse.vstack([raw, counts], format="csr", dtype=np.uint16)
            del counts
            owner = np.concatenate([owner, np.asarray([o for o, _ in self._pending], dtype=np.int32)])
            alive = np.concatenate([alive, np.ones(len(self._pending), dtype=bool)])
            texts = texts + [t for _, t in self._pending]
            self._pending = []
        live = np.flatnonzero(alive)
        order = live[np.argsort(owner[live], kind="stable")]
        if len(order) != raw.shape[0] or np.any(order != np.arange(raw.shape[0])):
            raw = raw[order]
            raw.sort_indices()
            texts = [texts[i] for i in order.tolist()]
        self.raw, self.texts, self.owner = raw, texts, owner[order].astype(np.int32)
        self.alive = np.ones(raw.shape[0], dtype=bool)
        cities = np.arange(len(self.spans))
        self.spans = np.stack(
            [np.searchsorted(self.owner, cities, "left"), np.searchsorted(self.owner, cities, "right")], axis=1
        ).astype(np.int32)
        # sublinear term frequency (a repeated word is not ten times the topic), idf over live rows, unit rows
        data = np.log1p(raw.data.astype(np.float32))
        # rows per column, over the columns in use only: no temporary as wide as all 2^20 columns but `place`
        if raw.nnz:
            ordered = np.sort(raw.indices)
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self.used = ordered[starts].astype(np.int32)
            del ordered
            self.frequency = np.diff(np.r_[starts, raw.nnz]).astype(np.int32)  # rows using each column in use
            del starts
        else:
            self.used, self.frequency = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
        idf = np.log((1.0 + raw.shape[0]) / (1.0 + self.frequency.astype(np.float32))) + 1.0
        place = np.zeros(N_FEATURES, dtype=np.int32)  # each column's place among the columns in use
        place[self.used] = np.arange(len(self.used), dtype=np.int32)
        compact_indices = place[raw.indices]
        del place
        data *= idf[compact_indices]
        del idf
        squares = sparse.csr_matrix((data * data, raw.indices, raw.indptr), shape=raw.shape)
        norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
        del squares
        norms[norms == 0] = 1.0
        data *= np.repeat(1.0 / norms, np.diff(raw.indptr))
        self.weighted = sparse.csr_matrix((data, raw.indices, raw.indptr), shape=raw.shape)
        self.weighted.has_sorted_indices = True
        compact = sparse.csr_matrix((data, compact_indices, raw.indptr), shape=(raw.shape[0], len(self.used)))
        del compact_indices
        self.weighted_t = compact.T.tocsr()
        self.dirty = False

    def against(self, rows: sparse.csr_matrix) -> sparse.csr_matrix:
        """Some rows of another kind renumbered onto this kind's `used` columns, ready for `weighted_t`.

        Entries in columns this kind does not use would only add zeros, so they go; the others keep their
        order, so a product adds the same terms in the same order as over all columns.
        """
        place = np.minimum(np.searchsorted(self.used, rows.indices), max(len(self.used) - 1, 0))
        keep = self.used[place] == rows.indices if len(self.used) else np.zeros(rows.nnz, dtype=bool)
        row = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))[keep]
        indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=rows.shape[0]))]
        return sparse.csr_matrix((rows.data[keep], place[keep], indptr), shape=(rows.shape[0], len(self.used)))


class MatchIndex:
    """Every city's declared profile, ready to score. Build once; `upsert` a city when it changes."""

    def __init__(self, profiles: Iterable[Profile] = (), weights: Weights = DEFAULT_WEIGHTS) -> None:
        self.weights = weights
        self._position: dict[int, int] = {}
        self._ids = np.zeros(0, dtype=np.int64)  # per position; a removed city's position stays empty
        self._names: list[str | None] = []
        self._cohorts = np.zeros(0, dtype=np.int64)  # -1: none
        self._track_ids: dict[str, int] = {}
        self._track_keys: list[str] = []
        self._tracks = np.zeros((0, 0), dtype=bool)
        self._mentor = np.zeros(0, dtype=bool)
        self._alive = np.zeros(0, dtype=bool)
        self._columns = {kind: _TextColumn() for kind in KINDS}
        self._has_needs = np.zeros(0, dtype=bool)
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
        return None if position is None else self._profile_at(position)

    def profiles(self) -> list[Profile]:
        return [self._profile_at(p) for p in sorted(self._position.values())]

    def _profile_at(self, position: int) -> Profile:
        self._refresh()
        texts = {kind: tuple(column.texts[r] for r in column.rows(position)) for kind, column in self._columns.items()}
        cohort = int(self._cohorts[position])
        return Profile(
            city_id=int(self._ids[position]),
            name=self._names[position] or "",
            tracks=frozenset(self._track_keys[t] for t in np.flatnonzero(self._tracks[position])),
            offers=texts["offer"],
            needs=texts["need"],
            goals=texts["goal"],
            mentor=bool(self._mentor[position]),
            cohort=None if cohort < 0 else cohort,
        )

    def upsert(self, profile: Profile) -> None:
        """Add a city or replace what it declared."""
        self._rarity = None
        position = self._position.get(profile.city_id)
        if position is None:
            position = len(self._names)
            self._names.append(None)
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
        self._ids[position] = profile.city_id
        self._names[position] = profile.name
        self._cohorts[position] = -1 if profile.cohort is None else profile.cohort
        self._mentor[position] = profile.mentor
        self._alive[position] = True
        self._has_needs[position] = any(n.strip() for n in profile.needs)
        texts = {"offer": profile.offers, "need": profile.needs, "goal": profile.goals}
        for kind, column in self._columns.items():
            column.add(position, texts[kind])

    def remove(self, city_id: int) -> None:
        position = self._position.pop(city_id, None)
        if position is None:
            return
        self._rarity = None
        self._retire_rows(position)
        self._names[position] = None
        self._alive[position] = False
        self._has_needs[position] = False
        self._tracks[position, :] = False

    def _retire_rows(self, position: int) -> None:
        for column in self._columns.values():
            column.retire(position)

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
        self._ids, self._cohorts = grown(self._ids), grown(self._cohorts)

    def _refresh(self) -> None:
        for column in self._columns.values():
            column.refresh(len(self._names))

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

    def _rarity_array(self) -> np.ndarray:
        rarity = np.zeros(self._tracks.shape[1], dtype=np.float32)
        for key, value in self.track_rarity().items():
            rarity[self._track_ids[key]] = value
        return rarity

    def _best_per_city(
        self, kind_mine: str, kind_theirs: str, position: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """For each of my `kind_mine` rows, the best relevance per city among their `kind_theirs` rows.

        Returns the relevance summed over my rows per city, and (my rows, row-by-item relevance) for reasons.
        """
        size = len(self._names)
        mine_column, theirs_column = self._columns[kind_mine], self._columns[kind_theirs]
        rows = mine_column.rows(position)
        if not len(rows) or theirs_column.weighted.shape[0] == 0:
            return np.zeros(size, dtype=np.float32), (rows, np.zeros((len(rows), 0), dtype=np.float32))
        relevance = (theirs_column.against(mine_column.weighted[rows]) @ theirs_column.weighted_t).toarray()
        relevance[relevance < self.weights.min_relevance] = 0.0
        best = np.zeros((len(rows), size), dtype=np.float32)
        hit_rows, hit_items = np.nonzero(relevance)
        np.maximum.at(best, (hit_rows, theirs_column.owner[hit_items]), relevance[hit_rows, hit_items])
        return best.sum(axis=0), (rows, relevance)

    def _scores(self, position: int, introduced_positions: np.ndarray | None = None) -> dict[str, Any]:
        """Every component of `position`'s score against every city, as arrays over positions."""
        self._refresh()
        w = self.weights
        size = len(self._names)
        rarity = self._rarity_array()
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
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], self._names[candidates[i]] or ""))
        fresh_set = set(np.flatnonzero(parts["fresh"] > 0).tolist())
        relevance = parts["relevance"]
        return [self._explain(position, int(candidates[i]), float(scores[i]), fresh_set, relevance) for i in order]

    def explain(self, city_id: int, other_id: int, *, introduced: bool = False) -> Match | None:
        """Why `other_id` suits `city_id`, or None when they have nothing in common.

        Scores this one pair only (their rows against mine), so explaining every pair of a round stays cheap.
        """
        position, other = self._position.get(city_id), self._position.get(other_id)
        if position is None or other is None or position == other:
            return None
        self._refresh()
        w = self.weights
        shared = self._tracks[position] & self._tracks[other]
        tracks = float((shared[None, :].astype(np.float32) @ self._rarity_array())[0]) * w.shared_track
        relevance = {}
        parts = []
        for kind_mine, kind_theirs, weight in (
            ("need", "offer", w.they_answer_need),
            ("offer", "need", w.i_answer_need),
            ("goal", "goal", w.similar_goal),
        ):
            rows, items = self._columns[kind_mine].rows(position), self._columns[kind_theirs].rows(other)
            if len(rows) and len(items):
                block = self._pair_relevance(kind_mine, rows, kind_theirs, items)
                block[block < w.min_relevance] = 0.0
                parts.append(float(block.max(axis=1).sum(dtype=np.float32)) * weight)
            else:
                block = np.zeros((len(rows), len(items)), dtype=np.float32)
                parts.append(0.0)
            relevance[kind_theirs] = (rows, block, items)
        if not (tracks > 0 or any(part > 0 for part in parts)):
            return None
        mentor = w.mentor if shared.any() and self._mentor[other] and self._has_needs[position] else 0.0
        fresh = 0.0 if introduced else w.not_introduced
        score = tracks + sum(parts) + mentor + fresh
        return self._explain(position, other, score, set() if introduced else {other}, relevance)

    def _pair_relevance(self, kind_mine: str, rows: np.ndarray, kind_theirs: str, items: np.ndarray) -> np.ndarray:
        """My rows' relevance to their rows (both spans), bit for bit what the sparse product gives.

        The sparse product adds, for each pair, the products of common columns in ascending column order,
        in float32; so does a running sum over the union of both sides' columns (the others add zero).
        """

        def entries(column: _TextColumn, span: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            matrix = column.weighted
            first, past = matrix.indptr[span[0]], matrix.indptr[span[-1] + 1]
            row = np.repeat(np.arange(len(span)), np.diff(matrix.indptr[span[0] : span[-1] + 2]))
            return row, matrix.indices[first:past], matrix.data[first:past]

        my_row, my_columns, my_values = entries(self._columns[kind_mine], rows)
        their_row, their_columns, their_values = entries(self._columns[kind_theirs], items)
        union = np.union1d(my_columns, their_columns)
        mine = np.zeros((len(rows), len(union)), dtype=np.float32)
        mine[my_row, np.searchsorted(union, my_columns)] = my_values
        theirs = np.zeros((len(items), len(union)), dtype=np.float32)
        theirs[their_row, np.searchsorted(union, their_columns)] = their_values
        return np.cumsum(mine[:, None, :] * theirs[None, :, :], axis=2, dtype=np.float32)[:, :, -1]

    def _explain(
        self, position: int, other: int, score: float, fresh: set[int], relevance: dict[str, tuple[Any, ...]]
    ) -> Match:
        reasons: list[Reason] = []
        rarity = self.track_rarity()
        keys = self._track_keys
        shared_ids = np.flatnonzero(self._tracks[position] & self._tracks[other])
        shared = sorted((keys[t] for t in shared_ids), key=lambda k: (-rarity[k], k))
        if shared:
            reasons.append(SharedTracks(tuple(shared)))
        for kind_mine, kind_theirs, make in (("need", "offer", TheyOffer), ("offer", "need", YouOffer)):
            pairs = self._text_pairs(other, kind_mine, kind_theirs, relevance[kind_theirs])
            for mine_text, theirs_text, closeness in pairs:
                offer, need = (theirs_text, mine_text) if make is TheyOffer else (mine_text, theirs_text)
                reasons.append(make(offer=offer, need=need, relevance=closeness))
        for mine_text, theirs_text, closeness in self._text_pairs(other, "goal", "goal", relevance["goal"]):
            reasons.append(SimilarGoals(mine=mine_text, theirs=theirs_text, relevance=closeness))
        if shared and self._mentor[other] and self._has_needs[position]:
            reasons.append(MentorOn(tuple(shared)))
        if other in fresh:
            reasons.append(NotYetIntroduced())
        return Match(int(self._ids[other]), self._names[other] or "", round(score, 4), tuple(reasons))

    def _text_pairs(
        self, other: int, kind_mine: str, kind_theirs: str, computed: tuple[Any, ...]
    ) -> list[tuple[str, str, float]]:
        """For each of my texts, their closest text when it is relevant enough; most relevant first.

        `computed` is (my rows, my rows' relevance to every item) from the scoring pass, so explaining costs a
        slice, not another product; or (my rows, my rows' relevance to their rows, their rows) for one pair.
        """
        mine_column, theirs_column = self._columns[kind_mine], self._columns[kind_theirs]
        my_rows, all_relevance = computed[0], computed[1]
        their_rows = computed[2] if len(computed) > 2 else theirs_column.rows(other)
        if not len(my_rows) or not len(their_rows) or all_relevance.shape[1] == 0:
            return []
        relevance = all_relevance if len(computed) > 2 else all_relevance[:, their_rows]
        pairs = []
        for i, row in enumerate(my_rows.tolist()):
            j = int(relevance[i].argmax())
            if relevance[i, j] >= self.weights.min_relevance:
                pairs.append((mine_column.texts[row], theirs_column.texts[int(their_rows[j])], float(relevance[i, j])))
        return sorted(pairs, key=lambda p: -p[2])

    # --- rounds --------------------------------------------------------------------------------------

    def pair_weights(self, city_ids: Sequence[int]) -> dict[tuple[int, int], float]:
        """`round_edges` as a dict {(lower id, higher id): weight}, for tests and small callers."""
        edges = self.round_edges(city_ids)
        return dict(zip(zip(edges.a.tolist(), edges.b.tolist(), strict=True), edges.w.tolist(), strict=True))

    def round_edges(self, city_ids: Sequence[int]) -> RoundEdges:
        """Symmetric weights between the given cities (both directions added, no freshness bonus), as arrays.

        Only each city's `round_candidates` best partners are kept, so the graph stays sparse. Cities are
        scored in blocks, and each pair of blocks once: per pair of blocks a dense product for the tracks
        (weighted by rarity) and three sparse products (my needs × their offers, my offers × their needs,
        goals × goals), each read both ways, so one block of scores holds both directions of every pair and
        serves both blocks' running best partners. No block of scores outlives its pair of blocks.
        """
        self._refresh()
        members = sorted({self._position[c] for c in city_ids if c in self._position})
        size = len(members)
        if size < 2:
            return RoundEdges.empty()
        positions = np.asarray(members, dtype=np.int64)
        w = self.weights
        # tracks in the order of their keys, not of first sight (a set's order, which changes with the hash
        # seed): the same sums in the same order, so two processes pair a round alike
        by_key = np.asarray(sorted(range(len(self._track_keys)), key=self._track_keys.__getitem__), dtype=np.int64)
        tracks_all = self._tracks[positions][:, by_key].astype(np.float32)
        weighted_tracks = tracks_all * self._rarity_array()[by_key]
        mentor_all, needs_all = self._mentor[positions], self._has_needs[positions]
        keep = min(w.round_candidates, size - 1)
        texts = self._round_texts(positions)
        # Blocks of about ROUND_BLOCK_ROWS text rows, so a block pair's products and scores stay a few MiB.
        rows_per_city = max(int(t.counts.sum()) for t in texts.values()) / size
        block = int(max(16, min(size, ROUND_BLOCK_ROWS / max(rows_per_city, 1.0))))
        starts = list(range(0, size, block))
        best = np.zeros((size, keep), dtype=np.float32)  # running best partners: weight, local index
        partner = np.full((size, keep), -1, dtype=np.int32)
        for i, first in enumerate(starts):
            mine = np.arange(first, min(size, first + block))
            for second in starts[i:]:
                theirs = np.arange(second, min(size, second + block))
                tracks = weighted_tracks[mine] @ tracks_all[theirs].T
                shared = tracks > 0
                total = tracks * np.float32(2 * w.shared_track)  # shared tracks count in both directions
                del tracks
                total += (shared & mentor_all[None, theirs] & needs_all[mine, None]) * np.float32(w.mentor)
                total += (shared & mentor_all[mine, None] & needs_all[None, theirs]) * np.float32(w.mentor)
                del shared
                for kind_mine, kind_theirs, forward, backward in (
                    ("need", "offer", w.they_answer_need, w.i_answer_need),
                    ("offer", "need", w.i_answer_need, w.they_answer_need),
                    ("goal", "goal", w.similar_goal, w.similar_goal),
                ):
                    self._add_text_block(total, texts[kind_mine], mine, texts[kind_theirs], theirs, forward, backward)
                if first == second:
                    np.fill_diagonal(total, 0.0)
                _keep_best(best, partner, mine, total, theirs)
                if first != second:
                    _keep_best(best, partner, theirs, total.T, mine)
                del total
        hit = (best > 0) & (partner >= 0)
        here = np.broadcast_to(np.arange(size)[:, None], best.shape)[hit]
        there, values = partner[hit].astype(np.int64), best[hit]
        low, high = np.minimum(here, there), np.maximum(here, there)
        # a pair both cities keep appears twice with the same weight (one block of scores serves both)
        _, unique = np.unique(low * size + high, return_index=True)
        ids = self._ids[positions]
        return RoundEdges(ids[low[unique]], ids[high[unique]], values[unique])

    def _round_texts(self, positions: np.ndarray) -> dict[str, _RoundTexts]:
        """Each kind of text of a round's cities, split at the n-grams most of their texts have."""
        # every column in use, and how many rows use it (of the whole index: a good enough guide for a subset)
        columns = np.unique(np.concatenate([self._columns[kind].used for kind in KINDS]))
        frequency = np.zeros(len(columns), dtype=np.int64)
        for kind in KINDS:
            frequency[np.searchsorted(columns, self._columns[kind].used)] += self._columns[kind].frequency
        rank = np.full(len(columns), -1, dtype=np.int32)
        rank[np.lexsort((columns, -frequency))[:ROUND_COMMON_COLUMNS]] = np.arange(
            min(len(columns), ROUND_COMMON_COLUMNS)
        )
        del frequency
        return {kind: _RoundTexts(self._columns[kind], positions, columns, rank) for kind in KINDS}

    def _add_text_block(
        self,
        total: np.ndarray,
        mine: _RoundTexts,
        my_cities: np.ndarray,
        theirs: _RoundTexts,
        their_cities: np.ndarray,
        forward: float,
        backward: float,
    ) -> None:
        """Add one kind of text relevance, both directions, between two blocks of cities to `total`.

        One product, my rows × their rows, read two ways: forward, for each of my rows the best row of each
        of their cities, summed over my rows (as `_best_per_city` scores me); backward, for each of their rows
        the best of my cities' rows, summed over their rows (as `_best_per_city` scores them against me).
        """
        first, past = mine.rows_of(my_cities)
        their_first, their_past = theirs.rows_of(their_cities)
        if first == past or their_first == their_past:
            return
        my_counts, their_counts = mine.counts[my_cities], theirs.counts[their_cities]
        my_rest, my_common = mine.block(first, past)
        their_rest, their_common = theirs.block(their_first, their_past)
        relevance = (my_rest @ their_rest.T).toarray()
        relevance += my_common.toarray() @ their_common.toarray().T
        relevance[relevance < self.weights.min_relevance] = 0.0
        if not relevance.any():
            return
        # backward: the best of my cities' rows for each of their rows, summed over each of their cities' rows
        best_of_mine = _segment_reduce(np.maximum, relevance, my_counts)
        total += _segment_reduce(np.add, np.ascontiguousarray(best_of_mine.T), their_counts).T * np.float32(backward)
        del best_of_mine
        # forward: the best of their cities' rows for each of my rows, summed over each of my cities' rows
        best_of_theirs = _segment_reduce(np.maximum, np.ascontiguousarray(relevance.T), their_counts)
        del relevance
        total += _segment_reduce(np.add, np.ascontiguousarray(best_of_theirs.T), my_counts) * np.float32(forward)


ROUND_BLOCK_ROWS = 768


ROUND_COMMON_COLUMNS = 128  # the most frequent n-grams, scored densely in a round


class _RoundTexts:
    """One kind of text of a round's cities, in member order, split in two by columns.

    Most of a sparse product's work is the n-grams nearly every text has (" fo", "ing"): each of them meets
    almost every row. So each row's entries in the `common` columns (the most frequent n-grams) are kept
    apart, densely scored, from the `rest`: my row · their row = my rest · their rest (a much sparser
    product) + my common · their common (a small dense one). Nothing is dropped: the relevance is the same,
    to float rounding.
    """

    def __init__(self, column: _TextColumn, positions: np.ndarray, columns: np.ndarray, rank: np.ndarray) -> None:
        """`columns`: every column in use, sorted (the rest is renumbered onto them, so products stay small);
        `rank`: per such column, its place among the common columns, or -1."""
        spans = column.spans[positions]
        self.counts = (spans[:, 1] - spans[:, 0]).astype(np.int64)
        self.offsets = np.r_[0, np.cumsum(self.counts)]
        count = int(self.offsets[-1])
        rows = np.repeat(spans[:, 0] - self.offsets[:-1], self.counts) + np.arange(count)
        contiguous = count == column.weighted.shape[0] and (count == 0 or bool(np.all(np.diff(rows) == 1)))
        matrix = column.weighted if contiguous else column.weighted[rows]
        self._data, self._indices, self._indptr = matrix.data, matrix.indices, matrix.indptr
        self._columns, self._rank = columns, rank
        self._common_width = int(rank.max(initial=-1)) + 1
        self._blocks: dict[tuple[int, int], tuple[sparse.csr_matrix, sparse.csr_matrix]] = {}

    def block(self, first: int, past: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """(rest, common) of rows [first, past): split when asked, so a round never holds every row split.

        The last two blocks asked for are kept: a block pair reads each side's block twice.
        """
        found = self._blocks.pop((first, past), None)
        if found is None:
            low, high = int(self._indptr[first]), int(self._indptr[past])
            data = self._data[low:high]
            compact = np.searchsorted(self._columns, self._indices[low:high]).astype(np.int32)
            entry_rank = self._rank[compact]
            common = entry_rank >= 0
            entry_row = np.repeat(np.arange(past - first), np.diff(self._indptr[first : past + 1]))
            common_indptr = np.r_[0, np.cumsum(np.bincount(entry_row[common], minlength=past - first))]
            rest_indptr = (self._indptr[first : past + 1] - low) - common_indptr
            shape = (past - first, self._common_width)
            found = (
                sparse.csr_matrix(
                    (data[~common], compact[~common], rest_indptr), shape=(past - first, len(self._columns))
                ),
                sparse.csr_matrix((data[common], entry_rank[common], common_indptr), shape=shape),
            )
            if len(self._blocks) >= 2:
                del self._blocks[next(iter(self._blocks))]
        self._blocks[(first, past)] = found
        return found

    def rows_of(self, cities: np.ndarray) -> tuple[int, int]:
        """The span of rows of a run of consecutive cities (local indices)."""
        return int(self.offsets[cities[0]]), int(self.offsets[cities[-1] + 1])


def _segment_reduce(ufunc: np.ufunc, matrix: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Reduce consecutive runs of `counts` rows of a C-ordered matrix; a run of none gives 0.

    Step by step, the k-th row of every run at once: a city has a few texts, so a few whole-array steps,
    where numpy's reduceat runs one short loop per run and is four times slower.
    """
    out = np.zeros((len(counts), matrix.shape[1]), dtype=np.float32)
    starts = np.cumsum(counts) - counts
    for k in range(int(counts.max(initial=0))):
        having = np.flatnonzero(counts > k)
        rows = matrix[starts[having] + k]
        out[having] = rows if k == 0 else ufunc(out[having], rows)
    return out


def _keep_best(
    best: np.ndarray, partner: np.ndarray, rows: np.ndarray, scores: np.ndarray, columns: np.ndarray
) -> None:
    """Merge a block of scores (rows × columns, local indices) into each row's running best partners."""
    keep = best.shape[1]
    if scores.shape[1] > keep:
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        scores, found = np.take_along_axis(scores, top, axis=1), columns[top]
    else:
        found = np.broadcast_to(columns[None, :], scores.shape)
    merged = np.concatenate([best[rows], scores], axis=1)
    merged_partner = np.concatenate([partner[rows], found.astype(np.int32)], axis=1)
    top = np.argpartition(-merged, keep - 1, axis=1)[:, :keep]
    best[rows] = np.take_along_axis(merged, top, axis=1)
    partner[rows] = np.take_along_axis(merged_partner, top, axis=1)
