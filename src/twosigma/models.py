"""Every model of every domain, imported in one place so ``Base.metadata`` is complete (Alembic reads it)."""

from __future__ import annotations

from twosigma.api_keys.models import ApiKey
from twosigma.assessments.models import QuizAttempt
from twosigma.audit.models import AuditEvent
from twosigma.auth.models import AccountToken, RefreshToken
from twosigma.content.models import ContentItem, Module
from twosigma.courses.models import Course, CourseOffering, CoursePrerequisite, CourseSubject
from twosigma.enrollments.models import CourseEnrollment
from twosigma.feature_requests.models import FeatureRequest
from twosigma.governance.models import (
    CourseTutorPolicy,
    TutorFlag,
    TutorUsage,
    UniversitySetting,
    UniversityTutorPolicy,
)
from twosigma.invitations.models import Invitation
from twosigma.jobs.models import JobQueueRun
from twosigma.lti.models import (
    LtiContext,
    LtiDeepLink,
    LtiIdentity,
    LtiLaunchCode,
    LtiLineItem,
    LtiLoginState,
    LtiPendingLink,
    LtiPlatform,
    LtiRegistrationLink,
    LtiScoreSend,
    LtiToolKey,
)
from twosigma.mail.models import MailOutbox
from twosigma.privacy.models import ChatRetentionRun, DataExport
from twosigma.progress.models import UserContentProgress, UserModuleProgress
from twosigma.prompts.models import Prompt, PromptDependency, PromptLabelEvent
from twosigma.retrieval.models import EmbeddingJob, RetrievalChunk
from twosigma.sso.models import SsoExchangeCode, SsoIdentity, SsoLoginState, SsoProvider, UniversityAccessPolicy
from twosigma.system_settings.models import SystemSetting
from twosigma.taxonomy.models import ContentType, Domain, Subject
from twosigma.tenancy.models import Country, Department, MemberSuspension, University, UserUniversityRole
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession
from twosigma.users.models import User, UserProfile, UserSubjectPreference

__all__ = [
    "AccountToken",
    "ApiKey",
    "AuditEvent",
    "ChatMessage",
    "ChatNote",
    "ChatRetentionRun",
    "ChatSession",
    "ContentItem",
    "ContentType",
    "Country",
    "Course",
    "CourseEnrollment",
    "CourseOffering",
    "CoursePrerequisite",
    "CourseSubject",
    "CourseTutorPolicy",
    "DataExport",
    "Department",
    "Domain",
    "EmbeddingJob",
    "FeatureRequest",
    "Invitation",
    "JobQueueRun",
    "LtiContext",
    "LtiDeepLink",
    "LtiIdentity",
    "LtiLaunchCode",
    "LtiLineItem",
    "LtiLoginState",
    "LtiPendingLink",
    "LtiPlatform",
    "LtiRegistrationLink",
    "LtiScoreSend",
    "LtiToolKey",
    "MailOutbox",
    "MemberSuspension",
    "Module",
    "Prompt",
    "PromptDependency",
    "PromptLabelEvent",
    "QuizAttempt",
    "RefreshToken",
    "RetrievalChunk",
    "SsoExchangeCode",
    "SsoIdentity",
    "SsoLoginState",
    "SsoProvider",
    "Subject",
    "SystemSetting",
    "TutorFlag",
    "TutorUsage",
    "University",
    "UniversityAccessPolicy",
    "UniversitySetting",
    "UniversityTutorPolicy",
    "User",
    "UserContentProgress",
    "UserModuleProgress",
    "UserProfile",
    "UserSubjectPreference",
    "UserUniversityRole",
]
