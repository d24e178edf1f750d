"""A faster `workspace` for the ownership tests: a copy of one freshly built workspace.

Building a workspace runs the migrations and seeds the default catalogue (about 60 ms); copying a
built one and opening it takes a few. Each test still gets a workspace of its own, identical to
what `tests/conftest.py`'s `workspace` gives. With TANDEM_TEST_DATABASE_URL set (PostgreSQL) there
is no file to copy, so the shared fixture builds one as usual.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tandem import Workspace
from tests.conftest import TEST_DATABASE_ENV


@pytest.fixture(scope="session")
def _template_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    if os.environ.get(TEST_DATABASE_ENV):
        return None
    root = tmp_path_factory.mktemp("template") / "ws"
    # Session fixtures run before the per-test environment cleaning: clean it here as well, so a
    # TANDEM_DATABASE_URL of the developer's shell is never where the template is built.
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("TANDEM_"):
                mp.delenv(name)
        Workspace.init(root, company="Test Retail").close()
    return root


@pytest.fixture
def workspace(
    _template_workspace: Path | None,
    make_workspace: Callable[..., Workspace],
    tmp_path: Path,
) -> Iterator[Workspace]:
    """A fresh workspace with the default catalogue: 9 functions, 17 capabilities, no roles."""
    if _template_workspace is None:
        yield make_workspace()
        return
    root = tmp_path / "ws"
    shutil.copytree(_template_workspace, root)
    ws = Workspace.open(root)
    yield ws
    ws.close()
