"""The launched page in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
Selenium. The real app runs under uvicorn on 127.0.0.1 on a scratch database of its own, with the fake Anthropic
server as its provider; the test LTI platform sends the browser through the OIDC login (the tool's state cookie is
set), the platform's auto-submitting launch form, and onto /lti/launched, where the page exchanges the code, shows
the item and its quiz, streams the tutor's reply, and grades a quiz attempt.

Skipped only when Chromium is not installed and `CI` is unset: in CI it must run (.ci/run installs the packages).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.fakes import FakeAnthropic, Mode
from tests.fixtures.assessments import make_quiz_item
from tests.fixtures.content import make_module, root_of
from tests.fixtures.courses import make_campus
from tests.fixtures.factories import auth_headers
from tests.fixtures.live_server import free_port, serve
from tests.fixtures.lti_platform import LEARNER, LaunchSpec, TestPlatform, random_sub, running_platform
from tests.fixtures.quiz_content import make_quiz_type, quiz
from tests.reliability.scratch import restored_logging, scratch_database
from twosigma.app import create_app
from twosigma.config import Settings
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.tutor.builtin_prompts import install_builtin_prompts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "lti-launched.png"
API = "/api/v1"
UPDATE_SCREENSHOT = "TWOSIGMA_UPDATE_SCREENSHOTS"
ITEM_TITLE = "Primes and capitals"
REPLY = "Hello from the fake tutor."

pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or CHROMEDRIVER is None) and not os.environ.get("CI"),
    reason="chromium and chromium-driver are not installed (in CI they are, and this test runs)",
)


@dataclass
class Stage:
    base_url: str
    settings: Settings
    platform: TestPlatform
    item_id: int


@pytest.fixture
async def stage(
    server_url: str, settings: Settings, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stage]:
    monkeypatch.setenv("TWOSIGMA_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_API_KEY", "sk-ant-browser-0123456789")
    monkeypatch.setenv("TWOSIGMA_LLM_ANTHROPIC_BASE_URL", fake_anthropic.url)
    monkeypatch.setenv("TWOSIGMA_LLM_DEFAULT_MODEL", "claude-browser-test")
    monkeypatch.setenv("TWOSIGMA_LLM_TIMEOUT_SECONDS", "5")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with scratch_database(server_url, settings) as url:
        app_settings = settings.model_copy(update={"database_url": url, "public_base_url": base_url})
        engine = make_engine(url, app_settings)
        try:
            async with make_sessionmaker(engine)() as db:
                await install_builtin_prompts(db)
                campus = await make_campus(db)
                lesson = await make_module(db, parent=await root_of(db, campus.course))
                item = await make_quiz_item(
                    db, module=lesson, quiz_type=await make_quiz_type(db), data=quiz(), title=ITEM_TITLE
                )
                item_id = item.id
                university_id, offering_id = campus.university.id, campus.offering.id
                admin, instructor = campus.admin, campus.instructor
                await db.commit()
        finally:
            await engine.dispose()
        with restored_logging(), serve(create_app(app_settings), port=port), running_platform(base_url) as platform:
            async with httpx.AsyncClient(base_url=base_url) as http:
                r = await http.post(
                    f"{API}/universities/{university_id}/lti/platforms",
                    json=platform.registration_body(),
                    headers=auth_headers(app_settings, admin),
                )
                assert r.status_code == 201, r.text
                r = await http.put(
                    f"{API}/offerings/{offering_id}/lti-context",
                    json={"platform_id": r.json()["id"], "context_id": "course-101"},
                    headers=auth_headers(app_settings, instructor),
                )
                assert r.status_code == 200, r.text
            yield Stage(base_url, app_settings, platform, item_id)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    if CHROMIUM:
        options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER or "chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


def _text_of(driver: WebDriver, selector: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[-1].text if found else ""


async def test_a_learner_launches_sees_the_item_chats_with_a_streamed_reply_and_takes_the_quiz(
    stage: Stage, browser: WebDriver, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    wait = WebDriverWait(browser, 20)
    spec = LaunchSpec(sub=random_sub(), roles=[LEARNER], custom={"content_item_id": str(stage.item_id)})
    # The LMS's course page frames the tool's login; the rest (the platform's form post, the 303) happens in the
    # frame, which the launched page's frame-ancestors (the platform's origin) allows.
    login = stage.platform.login_initiation_url(spec)
    browser.get(f"{stage.platform.url}/courses/frame?{urlencode({'src': login})}")
    wait.until(expected_conditions.frame_to_be_available_and_switch_to_it((By.ID, "tool")))
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "item-title"), ITEM_TITLE))
    # The code left the address bar.
    assert browser.execute_script("return location.href") == f"{stage.base_url}/lti/launched"
    assert browser.find_element(By.ID, "status").text == "You are signed in."
    # The student view: the questions, never a key nor an unreleased explanation.
    page = browser.page_source
    assert "Which planet is largest?" in page
    assert "Jupiter is more than twice" not in page
    assert browser.execute_script("return localStorage.length + sessionStorage.length") == 0
    assert browser.find_element(By.ID, "chat-input").get_attribute("aria-describedby") == "chat-hint"

    # A slow stream, so the reply is seen growing before it completes.
    fake_anthropic.script(mode=Mode.SLOW, delay=0.25)
    field = wait.until(expected_conditions.element_to_be_clickable((By.ID, "chat-input")))
    field.send_keys("What makes a number prime?")
    field.send_keys(Keys.ENTER)  # Enter sends (Shift+Enter is a new line)
    wait.until(lambda d: _text_of(d, ".message.assistant .text") not in ("", REPLY))
    partial = _text_of(browser, ".message.assistant .text")
    assert REPLY.startswith(partial)
    wait.until(lambda d: _text_of(d, ".message.assistant .text") == REPLY)
    wait.until(lambda d: d.find_element(By.ID, "reply-live").get_attribute("aria-busy") == "false")
    assert browser.find_element(By.ID, "reply-live").get_attribute("textContent") == f"Tutor: {REPLY}"
    assert _text_of(browser, ".message.user .text") == "What makes a number prime?"
    assert browser.switch_to.active_element.get_attribute("id") == "chat-input"  # focus back in the field
    sent = [r for r in fake_anthropic.requests if "What makes a number prime?" in r.body.decode(errors="replace")]
    assert sent, "the question reached the provider"
    assert browser.save_screenshot(str(tmp_path / "lti-launched.png"))
    if os.environ.get(UPDATE_SCREENSHOT):  # how docs/images/lti-launched.png is made (docs/lti.md)
        shutil.copyfile(tmp_path / "lti-launched.png", SCREENSHOT)

    # The quiz, answered right: the attempt is graded on the server and the result shown (feedback released).
    browser.find_element(By.CSS_SELECTOR, "label[for='q-0-1']").click()
    browser.find_element(By.ID, "q-1-0").click()
    browser.find_element(By.ID, "q-1-2").click()
    browser.find_element(By.ID, "q-2-answer").send_keys("9.81")
    browser.find_element(By.ID, "q-3-answer").send_keys("Paris")
    browser.find_element(By.ID, "quiz-submit").click()
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "quiz-result"), "Attempt 1: 100%"))
    result = browser.find_element(By.ID, "quiz-result").text
    assert "passed." in result
    assert "Attempts left: 2." in result
    assert "Jupiter is more than twice" in result  # the explanation, released after the attempt

    # Citations (`meta.citations` of message.completed, when retrieval sends them) are links to their items. The
    # tutor sends none yet, so the stream is replayed with one: fetch answers this message with a canned stream.
    completed = {"id": 0, "role": "assistant", "content": "See [1].", "meta": {"citations": [_citation(stage)]}}
    browser.execute_script(CANNED_STREAM, f"event: message.completed\ndata: {json.dumps(completed)}\n\n")
    field.send_keys("Where is this explained?", Keys.ENTER)
    link = wait.until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, ".citations a")))
    assert link.text == f"[1] {ITEM_TITLE}"
    browser.find_element(By.ID, "item-title").click()  # somewhere else, then back by keyboard
    link.send_keys(Keys.ENTER)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "item-title")
    assert browser.find_element(By.ID, "quiz-result").text == ""  # the item was loaded again
    assert len(browser.find_elements(By.CSS_SELECTOR, ".message")) == 4  # beside the conversation, kept


def _citation(stage: Stage) -> dict[str, object]:
    return {
        "n": 1,
        "content_item_id": stage.item_id,
        "module_id": 1,
        "title": ITEM_TITLE,
        "snippet": "primes",
        "used": True,
    }


# Replaces window.fetch for the next POST to a chat's messages: the answer is the given SSE text.
CANNED_STREAM = """
const body = arguments[0];
const real = window.fetch;
window.fetch = (url, options) => {
  if (String(url).includes("/messages") && options && options.method === "POST") {
    window.fetch = real;
    return Promise.resolve(new Response(body, {status: 200, headers: {"Content-Type": "text/event-stream"}}));
  }
  return real(url, options);
};
"""
