"""Every mail's words, per template and language, rendered to a subject, a plain-text body and an HTML body.

A user's locale (`de-AT`) picks its language (`de`); a language without texts falls back to English. Every value
put into a mail (a name, a university, the link) is escaped in the HTML body, so a full name such as
`<script>` arrives as text; the subject is one line whatever the values hold.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Texts:
    subject: str
    lead: str  # may hold {name}, {university}, {target}
    action: str  # the link's label in HTML
    footer: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


TEMPLATES: dict[str, dict[str, Texts]] = {
    "password_reset": {
        "en": Texts(
            "Reset your password",
            "Hello {name},\n\nsomeone asked to reset the password of your account. If it was you, choose a new "
            "password with this link within 30 minutes:",
            "Choose a new password",
            "If you did not ask for this, ignore this mail: your password stays as it is.",
        ),
        "de": Texts(
            "Passwort zurücksetzen",
            "Hallo {name},\n\njemand möchte das Passwort Ihres Kontos zurücksetzen. Wenn Sie das waren, wählen Sie "
            "innerhalb von 30 Minuten über diesen Link ein neues Passwort:",
            "Neues Passwort wählen",
            "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.",
        ),
    },
    "verify_email": {
        "en": Texts(
            "Confirm your email address",
            "Hello {name},\n\nplease confirm that this is your email address by opening this link within 7 days:",
            "Confirm my email address",
            "If you did not create an account, ignore this mail.",
        ),
        "de": Texts(
            "Bestätigen Sie Ihre E-Mail-Adresse",
            "Hallo {name},\n\nbitte bestätigen Sie innerhalb von 7 Tagen über diesen Link, dass dies Ihre "
            "E-Mail-Adresse ist:",
            "E-Mail-Adresse bestätigen",
            "Wenn Sie kein Konto angelegt haben, ignorieren Sie diese E-Mail.",
        ),
    },
    "email_change": {
        "en": Texts(
            "Confirm your new email address",
            "Hello {name},\n\nyou asked to use this address for your account. The change applies once you open "
            "this link (valid for 7 days):",
            "Use this address",
            "If you did not ask for this, ignore this mail: your account keeps its current address.",
        ),
        "de": Texts(
            "Bestätigen Sie Ihre neue E-Mail-Adresse",
            "Hallo {name},\n\nSie möchten diese Adresse für Ihr Konto verwenden. Die Änderung gilt, sobald Sie "
            "diesen Link öffnen (7 Tage gültig):",
            "Diese Adresse verwenden",
            "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Konto behält seine Adresse.",
        ),
    },
    "invitation": {
        "en": Texts(
            "You are invited to {university}",
            "Hello,\n\n{name} invited you to {target} at {university}. Accept the invitation with this link "
            "within 14 days:",
            "Accept the invitation",
            "If you do not know why you received this, ignore this mail.",
        ),
        "de": Texts(
            "Einladung zu {university}",
            "Hallo,\n\n{name} hat Sie zu {target} an der Einrichtung {university} eingeladen. Nehmen Sie die "
            "Einladung innerhalb von 14 Tagen über diesen Link an:",
            "Einladung annehmen",
            "Wenn Sie nicht wissen, warum Sie diese E-Mail erhalten, ignorieren Sie sie.",
        ),
    },
    # No link: the notice to the former address when an email change applied (auth/account.py verify_email).
    "email_changed": {
        "en": Texts(
            "Your account's email address was changed",
            "Hello {name},\n\nthe email address of your account was changed to {target} just now, confirmed from "
            "that address. You will receive no more mail about this account here.\n\nIf you made this change, "
            "there is nothing to do. If you did not, someone who knows your password has taken the account over: "
            "contact your university's administrators (or the platform's) at once, say which address was yours, and "
            "ask them to deactivate the account and restore your address. Change this password wherever else you "
            "use it.",
            "",
            "This notice needs no action if the change was yours; it contains no link.",
        ),
        "de": Texts(
            "Die E-Mail-Adresse Ihres Kontos wurde geändert",
            "Hallo {name},\n\ndie E-Mail-Adresse Ihres Kontos wurde soeben in {target} geändert, bestätigt von "
            "dieser Adresse aus. Hierher erhalten Sie keine E-Mails zu diesem Konto mehr.\n\nWenn Sie das selbst "
            "waren, ist nichts zu tun. Wenn nicht, hat jemand, der Ihr Passwort kennt, das Konto übernommen: Wenden "
            "Sie sich sofort an die Administration Ihrer Hochschule (oder der Plattform), nennen Sie Ihre bisherige "
            "Adresse und bitten Sie, das Konto zu sperren und Ihre Adresse wiederherzustellen. Ändern Sie dieses "
            "Passwort überall, wo Sie es sonst verwenden.",
            "",
            "Wenn die Änderung von Ihnen stammt, ist nichts zu tun; diese Mitteilung enthält keinen Link.",
        ),
    },
    # No link (the download needs the owner's sign-in): a data export is ready (privacy/service.py).
    "export_ready": {
        "en": Texts(
            "Your data export is ready",
            "Hello {name},\n\nthe export of your data you asked for is ready. Download it in the app (or with GET "
            "/api/v1/users/me/exports/{target}/download) within 7 days; after that it is deleted.",
            "",
            "If you did not ask for an export, change your password: someone signed in to your account asked for it.",
        ),
        "de": Texts(
            "Ihr Datenexport ist fertig",
            "Hallo {name},\n\nder Export Ihrer Daten, den Sie angefordert haben, ist fertig. Laden Sie ihn innerhalb "
            "von 7 Tagen in der App herunter (oder mit GET /api/v1/users/me/exports/{target}/download); danach wird "
            "er gelöscht.",
            "",
            "Wenn Sie keinen Export angefordert haben, ändern Sie Ihr Passwort: Jemand hat ihn in Ihrem Konto "
            "angefordert.",
        ),
    },
    "tutor_safety_flag": {
        "en": Texts(
            "A tutor conversation at {university} needs attention",
            "Hello,\n\na message in an AI tutor conversation at {university} was flagged: {category} (severity "
            "high). The conversation is listed among the university's open tutor flags for its admins and the "
            "course's instructors; this mail carries no message text. The list:",
            "Open the tutor flags",
            "You receive this mail as the safety contact of {university}.",
        ),
        "de": Texts(
            "Ein Tutor-Gespräch an der {university} braucht Aufmerksamkeit",
            "Hallo,\n\neine Nachricht in einem Gespräch mit dem KI-Tutor an der {university} wurde markiert: "
            "{category} (Schweregrad hoch). Das Gespräch steht in der Liste offener Tutor-Markierungen der "
            "Universität für ihre Admins und die Lehrenden des Kurses; diese E-Mail enthält keinen Nachrichtentext. "
            "Die Liste:",
            "Markierungen öffnen",
            "Sie erhalten diese E-Mail als Sicherheitskontakt der {university}.",
        ),
    },
}

# Words the invitation mail puts into {target}.
TARGETS: dict[str, dict[str, str]] = {
    "en": {"course": "a course", "role": "the role {role}"},
    "de": {"course": "einem Kurs", "role": "der Rolle {role}"},
}


def language_of(locale: str | None) -> str:
    language = (locale or DEFAULT_LANGUAGE).split("-")[0].split("_")[0].lower()
    return language if language in TEMPLATES["password_reset"] else DEFAULT_LANGUAGE


def render(template: str, locale: str | None, link: str, values: Mapping[str, str]) -> Rendered:
    """The mail `template` in the language of `locale`, with `link` and `values` ({name}, {university}, ...)."""
    language = language_of(locale)
    texts = TEMPLATES[template][language]
    # One line: a value with a line break (a university named "X\r\nBcc: …") must not become a header of its own,
    # and a header Python's email package refuses would fail the message.
    subject = " ".join(texts.subject.format_map(_Values(values)).split())
    lead = texts.lead.format_map(_Values(values))
    text = f"{lead}\n\n{link}\n\n{texts.footer}\n" if link else f"{lead}\n\n{texts.footer}\n"
    escaped = _Values({key: html.escape(value) for key, value in values.items()})
    paragraphs = "".join(f"<p>{part}</p>" for part in texts.lead.format_map(escaped).split("\n\n"))
    anchor = (
        f'<p><a href="{html.escape(link, quote=True)}">{html.escape(texts.action)}</a></p><p>{html.escape(link)}</p>'
        if link
        else ""
    )
    body = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(subject)}</title>'
        f"</head><body>{paragraphs}{anchor}<p>{html.escape(texts.footer)}</p></body></html>"
    )
    return Rendered(subject=subject, text=text, html=body, language=language)


def invitation_target(locale: str | None, role: str | None) -> str:
    words = TARGETS[language_of(locale)]
    return words["role"].format(role=role) if role is not None else words["course"]


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
