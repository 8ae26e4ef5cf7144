"""The HTML an LMS frame shows: a refusal, the instructor's "which offering is this course?" form, and the page a
launch lands on. Every value is escaped; styles are inline only; the launched page's one script carries a nonce.

Framing (docs/lti.md, "Frames"): pages that act (the link form, the launched page) may be framed by the platform's
origins only (`frame-ancestors`, which browsers apply instead of X-Frame-Options); a refusal carries nothing worth
clickjacking and may be framed anywhere, so the person sees why their launch failed inside the LMS.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence

from fastapi.responses import HTMLResponse

from twosigma.kit.errors import AppError
from twosigma.lti.services.accounts import origin
from twosigma.lti.services.deep_linking import DeepLinkAnswer, Picker
from twosigma.lti.services.launch import LinkChoice
from twosigma.lti.services.registration import Registered

LINK_PATH = "/lti/link"
DEEP_LINK_PATH = "/lti/deep-link"
EXCHANGE_PATH = "/api/v1/auth/lti/exchange"


def csp(frame_origins: Sequence[str], *, script_nonce: str | None = None, form_targets: Sequence[str] = ()) -> str:
    ancestors = " ".join(frame_origins) if frame_origins else "'none'"
    script = f"; script-src 'nonce-{script_nonce}'; connect-src 'self'" if script_nonce else ""
    forms = " ".join(("'self'", *form_targets))
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; form-action {forms}; base-uri 'none'{script}; "
        f"frame-ancestors {ancestors}"
    )


def _page(title: str, body: str, *, status_code: int, csp: str) -> HTMLResponse:
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(
        document, status_code=status_code, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"}
    )


def refusal(error: AppError) -> HTMLResponse:
    body = (
        f'<p role="alert">{html.escape(error.message)}</p><p><small>Code: {html.escape(error.error_code)}</small></p>'
    )
    return _page("This launch did not work", body, status_code=error.status_code, csp=csp(["*"]))


def link_choice(choice: LinkChoice) -> HTMLResponse:
    course = html.escape(choice.context_title or "this LMS course")
    options = [
        f'<option value="offering:{o.id}">{html.escape(c.code)} {html.escape(c.title)} — {html.escape(o.term_name)}'
        "</option>"
        for o, c in choice.offerings
    ]
    options += [
        f'<option value="course:{c.id}">A new offering of {html.escape(c.code)} {html.escape(c.title)}</option>'
        for c in choice.courses
    ]
    if not options:
        body = (
            f"<p>{course} is not linked to an offering, and you may edit no course of this university. "
            "Ask its administrator to link it.</p>"
        )
        return _page("Not set up yet", body, status_code=409, csp=csp(choice.frame_origins))
    body = (
        f"<p>{course} is not linked to a twosigma offering yet. Choose the offering its students use.</p>"
        f'<form method="post" action="{LINK_PATH}">'
        f'<input type="hidden" name="token" value="{html.escape(choice.token, quote=True)}">'
        '<p><label for="choice">Offering</label><br><select id="choice" name="choice" required>'
        + "".join(options)
        + '</select></p><p><button type="submit">Link and continue</button></p></form>'
    )
    return _page("Link this course", body, status_code=200, csp=csp(choice.frame_origins))


_LAUNCHED_SCRIPT = """
(async () => {
  const status = document.getElementById("status");
  const params = new URLSearchParams(location.search);
  const answer = await fetch(%(exchange)s, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({code: params.get("code") || ""}),
  });
  if (!answer.ok) { status.textContent = "This launch has expired: open the link from your course again."; return; }
  const tokens = await answer.json();
  sessionStorage.setItem("twosigma.access_token", tokens.access_token);
  sessionStorage.setItem("twosigma.refresh_token", tokens.refresh_token);
  status.textContent = "You are signed in.";
  const item = params.get("content_item_id");
  if (!item) return;
  const read = await fetch("/api/v1/content-items/" + encodeURIComponent(item),
    {headers: {"Authorization": "Bearer " + tokens.access_token}});
  if (read.ok) { document.getElementById("item").textContent = (await read.json()).title; }
})();
"""


def launched(frame_origins: Sequence[str]) -> HTMLResponse:
    """Where a launch lands without a web client: it exchanges the code and names the item (the tutor page the
    issue describes is not built yet: docs/lti.md)."""
    nonce = secrets.token_urlsafe(16)
    script = _LAUNCHED_SCRIPT % {"exchange": f'"{EXCHANGE_PATH}"'}
    body = (
        f'<p role="status" id="status">Signing you in…</p><h2 id="item"></h2><script nonce="{nonce}">{script}</script>'
    )
    return _page("twosigma", body, status_code=200, csp=csp(frame_origins, script_nonce=nonce))


def picker(choice: Picker) -> HTMLResponse:
    """The deep-linking picker: the items of the instructor's courses, quizzes marked (they get a gradebook column)."""
    groups = []
    for course in choice.courses:
        if not course.items:
            continue
        boxes = "".join(
            f'<li><input type="checkbox" id="item-{i.id}" name="item_id" value="{i.id}">'
            f' <label for="item-{i.id}">{html.escape(i.module_title)}: {html.escape(i.title)}'
            f"{' (quiz, graded)' if i.gradable else ''}</label></li>"
            for i in course.items
        )
        groups.append(
            f"<fieldset><legend>{html.escape(course.code)} {html.escape(course.title)}</legend><ul>{boxes}</ul>"
            "</fieldset>"
        )
    if not groups:
        body = "<p>No course you may edit has items to place yet.</p>"
        return _page("Place twosigma items", body, status_code=200, csp=csp(choice.frame_origins))
    body = (
        "<p>Choose the items to place in this LMS course. Each quiz gets a gradebook column (out of 100).</p>"
        f'<form method="post" action="{DEEP_LINK_PATH}">'
        f'<input type="hidden" name="token" value="{html.escape(choice.token, quote=True)}">'
        + "".join(groups)
        + '<p><button type="submit">Place the chosen items</button></p></form>'
    )
    return _page("Place twosigma items", body, status_code=200, csp=csp(choice.frame_origins))


def deep_link_answer(answer: DeepLinkAnswer) -> HTMLResponse:
    """The signed response, posted back to the platform by the browser (at once with script, by a button without)."""
    nonce = secrets.token_urlsafe(16)
    target = origin(answer.return_url)
    body = (
        f'<form id="return" method="post" action="{html.escape(answer.return_url, quote=True)}">'
        f'<input type="hidden" name="JWT" value="{html.escape(answer.jwt, quote=True)}">'
        '<p><button type="submit">Return to the LMS</button></p></form>'
        f'<script nonce="{nonce}">document.getElementById("return").submit();</script>'
    )
    return _page(
        "Returning to the LMS",
        body,
        status_code=200,
        csp=csp(answer.frame_origins, script_nonce=nonce, form_targets=[target] if target else []),
    )


def registered(outcome: Registered, frame_origins: Sequence[str]) -> HTMLResponse:
    """The dynamic registration's confirmation: what was registered, and the message that lets the LMS close it."""
    nonce = secrets.token_urlsafe(16)
    platform = outcome.platform
    deployments = ", ".join(platform.deployment_ids) or "none yet: add it to the platform in twosigma"
    body = (
        f"<p>twosigma is registered with {html.escape(outcome.product or 'this LMS')}.</p>"
        f"<dl><dt>Issuer</dt><dd>{html.escape(platform.issuer)}</dd>"
        f"<dt>Client id</dt><dd>{html.escape(platform.client_id)}</dd>"
        f"<dt>Deployment</dt><dd>{html.escape(deployments)}</dd></dl>"
        '<p><button type="button" id="close">Close</button></p>'
        f'<script nonce="{nonce}">'
        "const close = () => (window.opener || window.parent).postMessage({subject: 'org.imsglobal.lti.close'}, '*');"
        'document.getElementById("close").addEventListener("click", close);'
        "</script>"
    )
    return _page("Registered", body, status_code=201, csp=csp(frame_origins, script_nonce=nonce))
