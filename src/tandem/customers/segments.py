"""Segments: declarative definitions over profiles and behaviour, evaluated into memberships."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tandem.workspace import Workspace


class Segments:
    """Segments of one workspace (`workspace.segments`)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
