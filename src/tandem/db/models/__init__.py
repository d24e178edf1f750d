"""The metadata store's tables (SQLAlchemy 2 ORM), one module per domain.

Alembic migrations in `tandem/db/migrations` create these tables; a test checks that the models and
the migrations agree. Every module is imported here so `Base.metadata` knows every table.
"""

from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow
from tandem.db.models.ownership import (
    Capability,
    Company,
    Function,
    GovernanceBody,
    GovernanceMember,
    Person,
    ReportingLine,
    Responsibility,
)

__all__ = [
    "KEY_LENGTH",
    "NAME_LENGTH",
    "Base",
    "Capability",
    "Company",
    "Function",
    "GovernanceBody",
    "GovernanceMember",
    "Person",
    "ReportingLine",
    "Responsibility",
    "utcnow",
]
