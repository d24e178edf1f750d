"""Migrations: the models and the Alembic revisions agree; HEAD is current."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tandem import Workspace
from tandem.db.migrate import HEAD, current_revision, head_revision, upgrade
from tandem.db.models import Base


def test_head_constant_matches_revisions_on_disk() -> None:
    assert head_revision() == HEAD


def test_migrated_schema_matches_models(workspace: Workspace) -> None:
    with workspace.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(workspace: Workspace) -> None:
    assert current_revision(workspace.db.engine) == HEAD
    assert upgrade(workspace.db.engine) is False


def test_one_head_per_function_is_enforced_by_the_database(workspace: Workspace) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from tandem.db.models import Function, Person

    with pytest.raises(IntegrityError), workspace.session() as s:
        fn = s.query(Function).filter_by(key="marketing").one()
        s.add_all(
            [
                Person(function_id=fn.id, name="A", is_head=True),
                Person(function_id=fn.id, name="B", is_head=True),
            ]
        )
    with workspace.session() as s:
        assert s.query(Person).count() == 0
