"""The match index's own text vectors are scikit-learn's HashingVectorizer's, without loading scikit-learn."""

from __future__ import annotations

import numpy as np

from core.match_index import N_FEATURES, murmurhash3_32, vectorise

TEXTS = [
    "open data platform for citizens",
    "Plateforme de données ouvertes métropolitaine",
    "rewitalizacja śródmieścia i kamienic",
    "ψηφιακή πλατφόρμα ανοιχτών δεδομένων",
    "オープンデータ",
    "a  b\tc\n  ÉCOLE   Ørsted ﬁne ½",
    "x",
    "",
]


def test_vectors_equal_scikit_learns_hashing_vectorizer() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer  # the test extra installs it

    theirs = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=N_FEATURES, alternate_sign=False, norm=None,
        strip_accents="unicode", lowercase=True, dtype=np.float32,
    ).transform(TEXTS).tocsr()  # fmt: skip
    mine = vectorise(TEXTS)
    assert mine.shape == theirs.shape and mine.dtype == np.float32 and mine.indices.dtype == np.int32
    assert np.array_equal(mine.indptr, theirs.indptr)
    assert np.array_equal(mine.indices, theirs.indices)
    assert np.array_equal(mine.data, theirs.data)


def test_murmurhash_equals_scikit_learns() -> None:
    from sklearn.utils import murmurhash

    for key in ["", "a", "ab", "abc", "abcd", "abcde", " mob", "données", "δεδομένων", "x" * 33]:
        assert murmurhash3_32(key.encode()) == murmurhash.murmurhash3_32(key.encode(), seed=0)
