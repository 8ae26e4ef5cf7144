"""The built-in content types, installed on every start (`twosigma serve`, the demo seed) like the tutor's prompt.

One so far: `quiz`, gradable (docs/assessments.md). The install is idempotent and never undoes an admin's choice
except the one that would leak answer keys:
- no type named `quiz`: it is created, active and gradable;
- a gradable `quiz`: left alone (its label, description and `is_active` are the admins');
- a `quiz` that is not gradable (an install older than issue 19, where quiz items held `answer_index` that every
  student read): it is marked gradable, so from now on students read its items without their keys. Its items are
  not rewritten: one that does not parse as a quiz still reads (the student view works on any shape) and the
  next write of it must be a valid quiz.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.taxonomy import repository as repo
from twosigma.taxonomy.models import ContentType

logger = logging.getLogger(__name__)

QUIZ = "quiz"
QUIZ_LABEL = "Quiz"
QUIZ_DESCRIPTION = "Questions graded by the server; students never see the answer keys."


async def install_builtin_content_types(session: AsyncSession) -> bool:
    """Create the gradable `quiz` type, or mark an existing `quiz` gradable. Idempotent; the caller commits. True
    when something changed."""
    await repo.lock_content_type_name(session, QUIZ)  # two servers starting at once install it once
    existing = await repo.content_type_by_name(session, QUIZ)
    if existing is None:
        session.add(
            ContentType(name=QUIZ, label=QUIZ_LABEL, description=QUIZ_DESCRIPTION, is_active=True, gradable=True)
        )
        await session.flush()
        logger.info("installed the built-in content type %r", QUIZ)
        return True
    if existing.gradable:
        return False
    existing.gradable = True
    await session.flush()
    logger.warning(
        "marked the existing content type %r gradable: students now read its items without answer keys, and each "
        "item's next write must be a valid quiz",
        QUIZ,
    )
    return True
