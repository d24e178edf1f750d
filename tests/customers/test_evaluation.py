"""Pairwise precision / recall / F1 of a clustering against ground truth."""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from tandem.customers.evaluation import pairwise_scores


def _table(pairs: dict[str, str]) -> pa.Table:
    return pa.table({"key": list(pairs), "cluster": list(pairs.values())})


def test_perfect_clustering_scores_one() -> None:
    truth = _table({"a": "p1", "b": "p1", "c": "p1", "d": "p2", "e": "p3"})
    predicted = _table({"a": "x", "b": "x", "c": "x", "d": "y", "e": "z"})
    scores = pairwise_scores(predicted, truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 3, 3)
    assert scores.precision == scores.recall == scores.f1 == 1.0
    assert scores.keys == 5


def test_over_merge_costs_precision_and_split_costs_recall() -> None:
    truth = _table({"a": "p1", "b": "p1", "c": "p1", "d": "p2", "e": "p2"})
    # predicted clusters {a,b} and {c,d,e}: pairs ab (true), cd, ce (false), de (true)
    predicted = _table({"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"})
    scores = pairwise_scores(predicted, truth)
    assert scores.true_pairs == 4  # ab ac bc de
    assert scores.predicted_pairs == 4  # ab cd ce de
    assert scores.correct_pairs == 2  # ab de
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(0.5)


def test_missing_predictions_are_singletons_and_extra_keys_ignored() -> None:
    truth = _table({"a": "p1", "b": "p1", "c": "p2"})
    predicted = pa.table({"key": ["a", "zz", "c"], "cluster": [1, 1, 1]})  # non-text clusters
    scores = pairwise_scores(predicted, truth)
    # b is unpredicted (alone); a and c predicted together (wrong); zz is not in truth
    assert scores.keys == 3
    assert scores.true_pairs == 1
    assert scores.predicted_pairs == 1
    assert scores.correct_pairs == 0
    assert scores.precision == 0.0 and scores.recall == 0.0 and scores.f1 == 0.0


def test_no_pairs_anywhere_is_perfect() -> None:
    truth = _table({"a": "p1", "b": "p2"})
    scores = pairwise_scores(_table({"a": "x", "b": "y"}), truth)
    assert scores.f1 == 1.0 and scores.true_pairs == 0


def test_columns_are_required() -> None:
    with pytest.raises(ValueError, match="key and cluster"):
        pairwise_scores(pa.table({"id": ["a"]}), _table({"a": "p"}))
