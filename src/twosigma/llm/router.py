"""/admin/llm: checks of the configured provider, PLATFORM_ADMIN only."""

from __future__ import annotations

from twosigma.authz.dependencies import PlatformAdmin
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.llm import service
from twosigma.llm.dependencies import Providers
from twosigma.llm.schemas import LLMCheckRead
from twosigma.system_settings.dependencies import Effective

router = APIRouter(prefix="/admin/llm", tags=["admin: llm"], responses=error_responses(401, 403, 502, 503))


@router.post("/test", response_model=LLMCheckRead, summary="Send a one-line prompt to the configured provider")
async def test_provider(admin: PlatformAdmin, effective: Effective, providers: Providers) -> LLMCheckRead:
    return await service.check_provider(providers, effective)
