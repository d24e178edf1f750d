"""The source documents behind Tandem's rules (the seeds), for citing in findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Seed:
    id: str
    title: str
    author: str


SEEDS: Final[dict[str, Seed]] = {
    s.id: s
    for s in (
        Seed("000", "Who owns 'digital' in a business?", "Infomentum, 2015"),
        Seed(
            "001",
            "CMO-CIO partnership key in digital customer engagement",
            "CMO Australia, on Forrester's The State of Digital Business 2014",
        ),
        Seed(
            "002",
            "1+1 = 3: CMO & CIO Collaboration Best Practices that Drive Growth",
            "on the Canadian Marketing Association report",
        ),
        Seed("003", "6 People Vital for a Smart Digital Strategy", "David, BNET.com, 2011"),
        Seed(
            "004",
            "Marketing, CIO, HR: the couples of digital transformation",
            "Bertrand Duperrin",
        ),
    )
}


@dataclass(frozen=True)
class Citation:
    seed: str
    quote: str

    @property
    def source(self) -> Seed:
        return SEEDS[self.seed]

    def to_dict(self) -> dict[str, str]:
        return {"seed": self.seed, "title": self.source.title, "quote": self.quote}
