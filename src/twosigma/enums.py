"""Every enumeration stored in the database, and the one way to map them to PostgreSQL enum types.

Values equal names, in upper case: that is what the database stores and what the API speaks.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def pg_enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A native PostgreSQL enum type named ``name`` that stores the members' values (not their names)."""
    return Enum(
        enum_class,
        name=name,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class UserRole(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    TA = "TA"
    DEPARTMENT_ADMIN = "DEPARTMENT_ADMIN"
    UNIVERSITY_ADMIN = "UNIVERSITY_ADMIN"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"


class LearningGoal(StrEnum):
    CAREER_ADVANCEMENT = "CAREER_ADVANCEMENT"
    SKILL_DEVELOPMENT = "SKILL_DEVELOPMENT"
    ACADEMIC_REQUIREMENT = "ACADEMIC_REQUIREMENT"
    PERSONAL_INTEREST = "PERSONAL_INTEREST"
    CERTIFICATION = "CERTIFICATION"


class StudyLevel(StrEnum):
    HIGH_SCHOOL = "HIGH_SCHOOL"
    UNDERGRADUATE = "UNDERGRADUATE"
    GRADUATE = "GRADUATE"
    DOCTORATE = "DOCTORATE"
    PROFESSIONAL = "PROFESSIONAL"


class Grade(StrEnum):
    FRESHMAN = "FRESHMAN"
    SOPHOMORE = "SOPHOMORE"
    JUNIOR = "JUNIOR"
    SENIOR = "SENIOR"
    GRADUATE = "GRADUATE"


class CourseLevel(StrEnum):
    INTRODUCTORY = "INTRODUCTORY"
    INTERMEDIATE = "INTERMEDIATE"
    ADVANCED = "ADVANCED"
    EXPERT = "EXPERT"


class Visibility(StrEnum):
    PUBLIC = "PUBLIC"
    UNLISTED = "UNLISTED"
    INVITE_ONLY = "INVITE_ONLY"


class EnrollmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    DROPPED = "DROPPED"
    PENDING = "PENDING"
    WAITLISTED = "WAITLISTED"


class ModuleType(StrEnum):
    COURSE_ROOT = "COURSE_ROOT"
    UNIT = "UNIT"
    CHAPTER = "CHAPTER"
    LESSON = "LESSON"
    TOPIC = "TOPIC"
    SECTION = "SECTION"
    LAB = "LAB"
    QUIZ = "QUIZ"


class MessageRole(StrEnum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    SYSTEM = "SYSTEM"


class FeatureRequestStatus(StrEnum):
    OPEN = "OPEN"
    PLANNED = "PLANNED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    DECLINED = "DECLINED"


class InvitationKind(StrEnum):
    ROLE = "ROLE"  # a role grant in the university
    ENROLLMENT = "ENROLLMENT"  # a staff enrolment in one of its offerings


class InvitationStatus(StrEnum):
    """What is stored. An invitation still PENDING past its `expires_at` is reported as EXPIRED (derived, so no job
    has to flip rows when time passes)."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
