"""The metadata store: SQLAlchemy 2 models, engine and Alembic migrations."""

from tandem.db.models import Base
from tandem.db.session import Database

__all__ = ["Base", "Database"]
