"""The tuning splits (pure NumPy, no network)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_mlk._splits import holdout_size, holdout_split, kfold_splits


def _labels(n=120, n_labels=4, seed=0, rate=0.3):
    return (np.random.default_rng(seed).random((n, n_labels)) < rate).astype(np.float32)


@pytest.mark.parametrize("n, fraction, expected", [
    (100, 0.2, 20), (10, 0.25, 2), (10, 0.35, 4), (10, 0.01, 1), (10, 0.99, 9),
    (2, 0.5, 1), (2, 0.99, 1), (1, 0.5, 1),
])
def test_holdout_size_rounds_and_keeps_a_row_on_each_side(n, fraction, expected):
    assert holdout_size(n, fraction) == expected


def test_holdout_split_partitions_sorted_rows():
    Y = _labels()
    train, test = holdout_split(Y, 0.25, seed=0)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(120))
    assert abs(len(test) - 30) <= 3


def test_splits_are_seeded():
    Y = _labels()
    first, again, other = (holdout_split(Y, 0.2, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])
    folds, folds_again = kfold_splits(Y, 3, 3), kfold_splits(Y, 3, 3)
    for (a, b), (c, d) in zip(folds, folds_again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert not np.array_equal(folds[0][1], kfold_splits(Y, 3, 4)[0][1])


def test_sparse_and_dense_targets_split_alike():
    Y = _labels()
    for (a, b), (c, d) in zip(kfold_splits(Y, 4, 0), kfold_splits(sp.csr_matrix(Y), 4, 0)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    np.testing.assert_array_equal(holdout_split(Y, 0.2, 0)[1],
                                  holdout_split(sp.csr_matrix(Y), 0.2, 0)[1])


def test_kfold_partitions_every_row_once_with_sorted_folds():
    Y = _labels(n=50)
    folds = kfold_splits(Y, 5, seed=0)
    assert len(folds) == 5
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(50))
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == 50
        assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


def test_one_label_is_stratified_when_it_can_be():
    y = np.zeros((40, 1), dtype=np.float32)
    y[:10] = 1  # 10 positives: 2 in each of 5 folds, 2 in a hold-out of 8
    assert all(y[test].sum() == 2 for _, test in kfold_splits(y, 5, seed=0))
    assert y[holdout_split(y, 0.2, seed=0)[1]].sum() == 2


def test_a_label_too_rare_to_stratify_falls_back_to_shuffled_folds():
    y = np.zeros((40, 1), dtype=np.float32)
    y[:2] = 1  # 2 positives cannot go to 5 folds
    folds = kfold_splits(y, 5, seed=0)
    assert len(folds) == 5 and all(len(test) == 8 for _, test in folds)
    np.testing.assert_array_equal(np.sort(np.concatenate([t for _, t in folds])),
                                  np.arange(40))
    train, test = holdout_split(np.zeros((40, 1)), 0.2, seed=0)  # no positives
    assert len(test) == 8 and len(train) == 32


def test_too_few_rows_are_clear_errors():
    with pytest.raises(ValueError, match="threshold_cv=5 needs at least 5 samples, got "
                                         "4 samples. Use a fixed threshold"):
        kfold_splits(_labels(n=4), 5, 0)
    with pytest.raises(ValueError, match="hold-out of 0.2 needs at least 2 samples, "
                                         "got 1 sample. Use a fixed"):
        holdout_split(_labels(n=1), 0.2, 0)
    with pytest.raises(ValueError, match=r"^early stopping of 0.1 needs at least 2 "
                                         r"samples, got 1 sample\.$"):
        holdout_split(_labels(n=1), 0.1, 0, purpose="early stopping")
    # Exactly enough rows is enough.
    assert len(kfold_splits(_labels(n=5), 5, 0)) == 5
    assert len(holdout_split(_labels(n=2), 0.5, 0)[1]) == 1


def test_multi_label_targets_use_iterative_stratification():
    from iterstrat.ml_stratifiers import (MultilabelStratifiedKFold,
                                          MultilabelStratifiedShuffleSplit)

    Y = _labels(n=60, n_labels=2)  # two labels are already multi-label
    X = np.zeros((60, 1))
    _, test = next(MultilabelStratifiedShuffleSplit(1, test_size=12, random_state=5)
                   .split(X, Y))
    np.testing.assert_array_equal(holdout_split(Y, 0.2, 5)[1], np.sort(test))
    expected = MultilabelStratifiedKFold(3, shuffle=True, random_state=5).split(X, Y)
    for (train, test), (a, b) in zip(kfold_splits(Y, 3, 5), expected):
        np.testing.assert_array_equal(train, np.sort(a))
        np.testing.assert_array_equal(test, np.sort(b))


def test_one_label_splits_are_seeded_on_every_path():
    stratifiable = np.zeros((40, 1), dtype=np.float32)
    stratifiable[:10] = 1
    rare = np.zeros((40, 1), dtype=np.float32)
    rare[:1] = 1
    for y in (stratifiable, rare):
        assert np.array_equal(holdout_split(y, 0.2, 1)[1], holdout_split(y, 0.2, 1)[1])
        assert not np.array_equal(holdout_split(y, 0.2, 1)[1], holdout_split(y, 0.2, 2)[1])
        assert np.array_equal(kfold_splits(y, 4, 1)[0][1], kfold_splits(y, 4, 1)[0][1])
        assert not np.array_equal(kfold_splits(y, 4, 1)[0][1], kfold_splits(y, 4, 2)[0][1])


def test_as_many_positives_as_folds_are_stratified():
    y = np.zeros((50, 1), dtype=np.float32)
    y[:5] = 1
    for seed in range(5):
        assert all(y[test].sum() == 1 for _, test in kfold_splits(y, 5, seed))
    assert y[holdout_split(y[:20], 0.5, 0)[1]].sum() in (2, 3)  # 5 positives, 2 rows


def test_a_label_without_positives_splits_into_plain_folds():
    from sklearn.model_selection import KFold

    y = np.zeros((20, 1), dtype=np.float32)
    folds = kfold_splits(y, 4, 0)
    assert [len(test) for _, test in folds] == [5, 5, 5, 5]
    expected = KFold(4, shuffle=True, random_state=0).split(np.zeros((20, 1)))
    for (_, test), (_, b) in zip(folds, expected):
        np.testing.assert_array_equal(test, np.sort(b))
    np.testing.assert_array_equal(np.sort(np.concatenate([t for _, t in folds])),
                                  np.arange(20))


def test_an_empty_side_from_iterative_stratification_falls_back_to_shuffling():
    from sklearn.model_selection import ShuffleSplit

    # Iterative stratification puts all three rows on one side for this seed.
    Y = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    train, test = holdout_split(Y, 1 / 3, 188)
    assert len(train) == 2 and len(test) == 1
    expected = next(ShuffleSplit(1, test_size=1, random_state=188).split(np.zeros((3, 1))))
    np.testing.assert_array_equal(test, np.sort(expected[1]))


def test_one_label_uses_scikit_learn_stratified_splitters():
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    y = np.zeros((40, 1), dtype=np.float32)
    y[::3] = 1
    X = np.zeros((40, 1))
    _, test = next(StratifiedShuffleSplit(1, test_size=8, random_state=3).split(X, y[:, 0]))
    np.testing.assert_array_equal(holdout_split(y, 0.2, 3)[1], np.sort(test))
    expected = StratifiedKFold(4, shuffle=True, random_state=3).split(X, y[:, 0])
    for (_, test), (_, b) in zip(kfold_splits(y, 4, 3), expected):
        np.testing.assert_array_equal(test, np.sort(b))


def test_two_positives_are_split_one_each_side():
    y = np.zeros((8, 1), dtype=np.float32)
    y[:2] = 1
    for seed in range(10):
        train, test = holdout_split(y, 0.5, seed)
        assert y[test].sum() == 1 and y[train].sum() == 1


def test_tiny_multi_label_splits_are_iterative_stratification_s():
    from iterstrat.ml_stratifiers import (MultilabelStratifiedKFold,
                                          MultilabelStratifiedShuffleSplit)

    Y = np.array([[1, 0], [0, 1]], dtype=np.float32)
    X = np.zeros((2, 1))
    for seed in range(3):
        _, test = next(MultilabelStratifiedShuffleSplit(1, test_size=1, random_state=seed)
                       .split(X, Y))
        np.testing.assert_array_equal(holdout_split(Y, 0.5, seed)[1], np.sort(test))
        expected = MultilabelStratifiedKFold(2, shuffle=True, random_state=seed).split(X, Y)
        for (_, test), (_, b) in zip(kfold_splits(Y, 2, seed), expected):
            np.testing.assert_array_equal(test, np.sort(b))


def test_the_shuffled_fallback_keeps_the_hold_out_size():
    # Iterative stratification leaves a side empty for this seed (5 rows, 4
    # held out): the fallback still holds out 4.
    Y = np.array([[1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]], dtype=np.float32)
    train, test = holdout_split(Y, 0.8, 185)
    assert len(test) == 4 and len(train) == 1


def _package_parts(Y, seed, k=None, n_test=None):
    """Each row's part as iterative-stratification's splitters give it: of
    ``k`` folds, or (train 0, test 1) of a hold-out of ``n_test`` rows."""
    from iterstrat.ml_stratifiers import (MultilabelStratifiedKFold,
                                          MultilabelStratifiedShuffleSplit)

    n = Y.shape[0]
    X, part = np.zeros((n, 1)), np.zeros(n, dtype=int)
    if n_test is not None:
        _, test = next(MultilabelStratifiedShuffleSplit(1, test_size=n_test,
                                                        random_state=seed).split(X, Y))
        part[test] = 1
        return part
    folds = MultilabelStratifiedKFold(k, shuffle=True, random_state=seed)
    for i, (_, test) in enumerate(folds.split(X, Y)):
        part[test] = i
    return part


def _case(case):
    """A generated target of case ``case``: its size, label count and rate
    vary, some with a block of rows without positives, some with labels of
    one positive or none."""
    rng = np.random.default_rng(case)
    n, n_labels = int(rng.integers(6, 250)), int(rng.integers(2, 40))
    Y = (rng.random((n, n_labels)) < rng.choice([0.01, 0.05, 0.2, 0.6])).astype(bool)
    if case % 3 == 0:
        Y[: n // 3] = False
    if case % 4 == 1:
        Y[:, 0] = False
        Y[:, 1] = False
        Y[int(rng.integers(n)), 1] = True
    return Y, rng


@pytest.mark.parametrize("case", range(40))
def test_stratify_gives_the_packages_folds_and_hold_outs(case):
    from sklearn_mlk._splits import stratify

    Y, rng = _case(case)
    k = int(rng.integers(2, 7))
    np.testing.assert_array_equal(stratify(Y, np.full(k, 1 / k), case),
                                  _package_parts(Y, case, k=k))
    n_test = holdout_size(len(Y), float(rng.choice([0.1, 0.2, 0.5])))
    shares = np.array([len(Y) - n_test, n_test]) / len(Y)
    np.testing.assert_array_equal(stratify(Y, shares, case),
                                  _package_parts(Y, case, n_test=n_test))


def test_stratify_draws_from_a_given_generator_as_the_package_does():
    from sklearn_mlk._splits import stratify

    Y, _ = _case(5)
    mine, theirs = np.random.RandomState(7), np.random.RandomState(7)
    np.testing.assert_array_equal(stratify(Y, np.full(4, 0.25), mine),
                                  _package_parts(Y, theirs, k=4))
    assert mine.random() == theirs.random()  # the same draws were taken


def test_stratify_spreads_each_label_over_the_parts():
    from sklearn_mlk._splits import stratify

    rng = np.random.default_rng(0)
    Y = np.zeros((200, 3), dtype=bool)
    Y[rng.choice(200, 5, replace=False), 0] = True  # one per fold
    Y[rng.choice(200, 50, replace=False), 1] = True  # ten per fold
    Y[:, 2] = rng.random(200) < 0.5
    for seed in range(5):
        part = stratify(Y, np.full(5, 0.2), seed)
        counts = np.array([Y[part == i].sum(axis=0) for i in range(5)])
        assert (counts[:, 0] == 1).all() and (counts[:, 1] == 10).all()
        assert counts[:, 2].max() - counts[:, 2].min() <= 1
        assert (np.bincount(part, minlength=5) == 40).all()
    # A hold-out of 40 of 200: its fifth of each label, and 40 rows.
    part = stratify(Y, np.array([0.8, 0.2]), 0)
    assert part.sum() == 40 and Y[part == 1, 1].sum() == 10 and Y[part == 1, 0].sum() == 1


def test_rows_without_positives_go_to_the_parts_that_want_most_rows():
    from sklearn_mlk._splits import stratify

    Y = np.zeros((30, 2), dtype=bool)
    Y[:4, 0] = True  # four labelled rows, then 26 without a positive
    for seed in range(5):
        part = stratify(Y, np.full(3, 1 / 3), seed)
        assert (np.bincount(part, minlength=3) == 10).all()
    assert (np.bincount(stratify(np.zeros((9, 2), dtype=bool), np.full(3, 1 / 3), 0),
                        minlength=3) == 3).all()
