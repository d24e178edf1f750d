"""Which groups of a results table must show no figure, so no respondent can be singled out.

The attack: a reader sees the company's figures for a question and the figures of every group
(function or seniority) that is shown. Whatever the shown groups do not account for belongs to the
hidden groups: total minus shown = hidden, by subtraction ("differencing"). Hiding one small
group alone therefore hides nothing. The defence, applied per question (a group's `n` differs
from question to question when people skip answers):

1. Primary suppression: a group with 1 to `min_group - 1` respondents shows no figure.
2. Complementary suppression: while the hidden groups taken together have fewer than `min_group`
   respondents, or their combined figures are all-or-nothing (everyone hidden agreed, or nobody
   did, which would tell each hidden person's answer), hide the next-smallest shown group too.
   When every group ends up hidden, only the company's own figure remains.

A figure that is all-or-nothing for the whole company (nobody at all chose an option) tells every
group's answer whatever is hidden; that is the company's result, shown without any breakdown too,
so it does not count against the hidden groups.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tandem.errors import InvalidValue

DEFAULT_MIN_GROUP = 5
MIN_GROUP_FLOOR = 3

G = TypeVar("G", bound=Hashable)


@dataclass(frozen=True)
class GroupCounts:
    """One group's answers to one question: `n` respondents and a count per figure (one count,
    of those agreeing, for an agreement question; one per option for a choice question)."""

    n: int
    counts: Sequence[int]


def check_min_group(value: int) -> int:
    if value < MIN_GROUP_FLOOR:
        raise InvalidValue(
            f"min_group must be at least {MIN_GROUP_FLOOR} (got {value})",
            field="min_group",
            detail="smaller groups let colleagues guess who answered what",
        )
    return value


def suppressed_groups(groups: Mapping[G, GroupCounts], min_group: int) -> dict[G, str]:
    """The groups to hide, each with the reason (`"small"` or `"complementary"`)."""
    total_n = sum(g.n for g in groups.values())
    if total_n < min_group:
        return {key: "small" for key, g in groups.items() if g.n > 0}
    hidden: dict[G, str] = {key: "small" for key, g in groups.items() if 0 < g.n < min_group}
    if not hidden:
        return hidden
    width = max((len(g.counts) for g in groups.values()), default=0)
    totals = [sum(_count(g, i) for g in groups.values()) for i in range(width)]
    shown = sorted(
        (key for key, g in groups.items() if g.n > 0 and key not in hidden),
        key=lambda key: (groups[key].n, str(key)),
    )
    while shown and not _safe([groups[k] for k in hidden], totals, total_n, min_group):
        hidden[shown.pop(0)] = "complementary"
    return hidden


def _count(group: GroupCounts, index: int) -> int:
    return group.counts[index] if index < len(group.counts) else 0


def _safe(hidden: list[GroupCounts], totals: list[int], total_n: int, min_group: int) -> bool:
    """Whether what subtraction reveals about the hidden groups together tells nothing about any
    one of them: at least `min_group` people, and no figure that all or none of them share."""
    n = sum(g.n for g in hidden)
    if n < min_group:
        return False
    for index, total in enumerate(totals):
        if total in (0, total_n):
            continue
        count = sum(_count(g, index) for g in hidden)
        if count in (0, n):
            return False
    return True
