"""Shares with Wilson 95% intervals (scipy's binomial test), for survey results.

The Wilson score interval keeps its coverage for small groups and for shares near 0% or 100%,
where the textbook "p ± 1.96·√(p(1-p)/n)" interval collapses to a point or leaves [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binomtest

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Share:
    """`k` of `n` with the Wilson interval of the share k/n."""

    k: int
    n: int
    share: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "k": self.k,
            "n": self.n,
            "share": round(self.share, 4),
            "ci_low": round(self.low, 4),
            "ci_high": round(self.high, 4),
        }


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> Share:
    """The share k/n with its Wilson score interval (n > 0)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0 (got k={k}, n={n})")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Share(k, n, k / n, float(ci.low), float(ci.high))
