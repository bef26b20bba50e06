"""All tables; importing this package registers them on ``Base.metadata``."""

from playdeck.models.attachment import Attachment
from playdeck.models.attempt import Attempt
from playdeck.models.base import Base
from playdeck.models.project import Project
from playdeck.models.report import Report, ReportFile
from playdeck.models.result import Result
from playdeck.models.run import Run
from playdeck.models.test import Test

__all__ = [
    "Attachment",
    "Attempt",
    "Base",
    "Project",
    "Report",
    "ReportFile",
    "Result",
    "Run",
    "Test",
]
