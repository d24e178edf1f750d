"""Campaigns: definitions, assignment into arms, exposures and results."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.workspace import Workspace


class Campaigns:
    """Campaigns of one workspace (`workspace.campaigns`)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
