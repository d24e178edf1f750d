"""Tandem's test suite (mirrors src/tandem)."""

import os

# pytest-xdist workers inherit COLUMNS=80, and the CLI's Rich console reads COLUMNS when
# `tandem.cli` is first imported (by tests/conftest.py, which this package runs before).
# Without it, piped output is 160 columns wide, as on a developer's machine or in CI.
os.environ.pop("COLUMNS", None)
