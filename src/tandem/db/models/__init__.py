"""The metadata store's tables (SQLAlchemy 2 ORM), one module per domain.

Alembic migrations in `tandem/db/migrations` create these tables; a test checks that the models and
the migrations agree. Every module is imported here so `Base.metadata` knows every table.
"""

from tandem.db.models.accounts import AccessGrant, ApiToken, UserAccount
from tandem.db.models.base import KEY_LENGTH, NAME_LENGTH, Base, utcnow
from tandem.db.models.campaigns import Campaign, CampaignOwner
from tandem.db.models.customers import Source, SourceOwner
from tandem.db.models.identity import Erasure, ResolutionRun
from tandem.db.models.initiatives import (
    Initiative,
    InitiativeMember,
    InitiativeOwner,
    Kpi,
    KpiValue,
)
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
from tandem.db.models.segments import Segment, SegmentEvaluationRow, SegmentOwner
from tandem.db.models.surveys import Survey, SurveyInvitation, SurveyResponse

__all__ = [
    "KEY_LENGTH",
    "NAME_LENGTH",
    "AccessGrant",
    "ApiToken",
    "Base",
    "Campaign",
    "CampaignOwner",
    "Capability",
    "Company",
    "Erasure",
    "Function",
    "GovernanceBody",
    "GovernanceMember",
    "Initiative",
    "InitiativeMember",
    "InitiativeOwner",
    "Kpi",
    "KpiValue",
    "Person",
    "ReportingLine",
    "ResolutionRun",
    "Responsibility",
    "Segment",
    "SegmentEvaluationRow",
    "SegmentOwner",
    "Source",
    "SourceOwner",
    "Survey",
    "SurveyInvitation",
    "SurveyResponse",
    "UserAccount",
    "utcnow",
]
