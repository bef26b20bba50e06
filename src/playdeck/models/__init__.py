"""All tables; importing this package registers them on ``Base.metadata``."""

from playdeck.models.account_link import AccountLink
from playdeck.models.api_key import ApiKey
from playdeck.models.attachment import Attachment
from playdeck.models.attempt import Attempt
from playdeck.models.audit_event import AuditEvent
from playdeck.models.auth_session import RefreshToken, UserSession
from playdeck.models.base import Base
from playdeck.models.email_verification import EmailVerification
from playdeck.models.ingest_request import IngestRequest
from playdeck.models.project import Project
from playdeck.models.project_member import ProjectMember
from playdeck.models.quarantine import Quarantine
from playdeck.models.report import Report, ReportFile
from playdeck.models.result import Result
from playdeck.models.retention_policy import RetentionPolicy
from playdeck.models.run import Run
from playdeck.models.run_part import RunPart
from playdeck.models.service_account import ServiceAccount
from playdeck.models.test import Test
from playdeck.models.two_factor import (
    TwoFactorAuthenticator,
    TwoFactorChallenge,
    TwoFactorRecoveryCode,
)
from playdeck.models.user import User
from playdeck.models.user_identity import UserIdentity

__all__ = [
    "AccountLink",
    "ApiKey",
    "Attachment",
    "Attempt",
    "AuditEvent",
    "Base",
    "EmailVerification",
    "IngestRequest",
    "Project",
    "ProjectMember",
    "Quarantine",
    "RefreshToken",
    "Report",
    "ReportFile",
    "Result",
    "RetentionPolicy",
    "Run",
    "RunPart",
    "ServiceAccount",
    "Test",
    "TwoFactorAuthenticator",
    "TwoFactorChallenge",
    "TwoFactorRecoveryCode",
    "User",
    "UserIdentity",
    "UserSession",
]
