"""The HTML an LMS frame shows: a refusal, the instructor's "which offering is this course?" form, and the page a
launch lands on. Every value is escaped; styles are inline only; inline scripts carry a nonce.

Framing (docs/lti.md, "Frames"): pages that act (the link form, the launched page) may be framed by the platform's
origins only (`frame-ancestors`, which browsers apply instead of X-Frame-Options); a refusal carries nothing worth
clickjacking and may be framed anywhere, so the person sees why their launch failed inside the LMS.
The launched page is the exception to "inline only": its script is static/launched.js, served from self.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from importlib import resources

from fastapi.responses import HTMLResponse

from twosigma.kit.errors import AppError
from twosigma.lti.services.accounts import origin
from twosigma.lti.services.deep_linking import DeepLinkAnswer, Picker
from twosigma.lti.services.launch import LinkChoice
from twosigma.lti.services.registration import Registered

LINK_PATH = "/lti/link"
DEEP_LINK_PATH = "/lti/deep-link"


def csp(
    frame_origins: Sequence[str],
    *,
    script_nonce: str | None = None,
    script_self: bool = False,
    form_targets: Sequence[str] = (),
) -> str:
    ancestors = " ".join(frame_origins) if frame_origins else "'none'"
    script = ""
    if script_nonce:
        script = f"; script-src 'nonce-{script_nonce}'; connect-src 'self'"
    elif script_self:
        script = "; script-src 'self'; connect-src 'self'"
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


LAUNCHED_SCRIPT_PATH = "/lti/launched.js"

_LAUNCHED_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{padding:.5rem 1rem;border-bottom:1px solid #ccc;display:flex;gap:1rem;align-items:baseline}
header h1{font-size:1.1rem;margin:0}
.layout{display:flex;flex-wrap:wrap;gap:1rem;padding:1rem}
#item{flex:3 1 24rem;min-width:0}
#tutor{flex:2 1 18rem;min-width:0;border-left:1px solid #ddd;padding-left:1rem}
.prose{white-space:pre-wrap}
fieldset{border:1px solid #ccc;margin:0 0 .75rem}
#messages{list-style:none;padding:0;margin:0 0 .75rem;max-height:60vh;overflow-y:auto}
.message{margin:.25rem 0;padding:.5rem;border-radius:.4rem;background:#f3f3f3}
.message.user{background:#e6f0ff}
.who{font-weight:600;display:block;font-size:.85rem}
.text{white-space:pre-wrap}
textarea{width:100%;box-sizing:border-box;font:inherit}
button{font:inherit;padding:.3rem .9rem}
:focus-visible{outline:3px solid #1a5fd0;outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""

_LAUNCHED_BODY = """
<header><h1>twosigma</h1><p role="status" aria-live="polite" id="status">Signing you in…</p></header>
<main class="layout">
<section id="item" aria-labelledby="item-title">
<h2 id="item-title" tabindex="-1"></h2>
<p id="item-description"></p>
<ul id="item-objectives" aria-label="Learning objectives" hidden></ul>
<div id="item-body"></div>
<form id="quiz" hidden aria-labelledby="quiz-title">
<h3 id="quiz-title">Quiz</h3>
<p id="quiz-instructions"></p>
<div id="quiz-questions"></div>
<p><button type="submit" id="quiz-submit">Submit answers</button></p>
<div id="quiz-result" role="status" aria-live="polite"></div>
</form>
</section>
<aside id="tutor" aria-labelledby="tutor-title">
<h2 id="tutor-title">Tutor</h2>
<ol id="messages" aria-label="Conversation"></ol>
<div id="reply-live" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<form id="chat" hidden>
<p><label for="chat-input">Your question</label>
<textarea id="chat-input" name="content" rows="3" maxlength="8000" required
 aria-describedby="chat-hint"></textarea>
<small id="chat-hint">Enter sends; Shift+Enter starts a new line.</small></p>
<p><button type="submit" id="chat-send">Send</button></p>
</form>
</aside>
</main>
<noscript><p>This page needs JavaScript to sign you in.</p></noscript>
"""


def launched_script() -> bytes:
    """The launched page's script (static/launched.js), served by twosigma itself: `script-src 'self'`."""
    return (resources.files("twosigma.lti") / "static" / "launched.js").read_bytes()


def launched(frame_origins: Sequence[str]) -> HTMLResponse:
    """Where a launch lands without a web client: twosigma's own tutor page for the LMS frame (docs/lti.md, "The
    launched page"). The HTML is static; the script (from self) exchanges the code, keeps the tokens in memory, and
    fills the item, its quiz and the tutor chat from the API."""
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>twosigma</title><style>{_LAUNCHED_STYLE}</style>"
        f'<script src="{LAUNCHED_SCRIPT_PATH}" defer></script></head><body>{_LAUNCHED_BODY}</body></html>'
    )
    policy = csp(frame_origins, script_self=True)
    return HTMLResponse(
        document,
        status_code=200,
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


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
