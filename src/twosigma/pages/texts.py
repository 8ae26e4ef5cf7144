"""The pages' words, per language; the language chosen from Accept-Language."""

from __future__ import annotations

LANGUAGES = ("en", "de")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "reset_title": "Choose a new password",
        "new_password": "New password",
        "confirm_password": "New password, again",
        "password_hint": "At least 8 characters, with a letter and a digit.",
        "reset_submit": "Set the new password",
        "reset_done": "Your password has been changed, and every session of your account was signed out. You can "
        "sign in with the new password now.",
        "mismatch": "The two passwords are not the same.",
        "verify_title": "Confirm your email address",
        "verify_intro": "Confirm the email address of your account by pressing the button.",
        "verify_submit": "Confirm",
        "verify_done": "Your email address {email} is confirmed.",
        "invite_title": "Accept your invitation",
        "invite_intro": "Sign in with the account of the invited address to accept. If you have no account yet, "
        "create one with that address first, then open this link again.",
        "email": "Email address",
        "password": "Password",
        "invite_submit": "Sign in and accept",
        "invite_done": "You have accepted the invitation to {university}.",
        "missing_token": "This link is incomplete: open the link from your mail again.",
        "invalid_account_token": "This link is not valid: it was used already, has expired, or was replaced. Ask "
        "for a new one.",
        "invalid_credentials": "The email or password is incorrect.",
        "invitation_not_found": "This invitation does not exist, or is addressed to another email address.",
        "rate_limited": "Too many attempts; try again in a few minutes.",
        "error": "Something went wrong: {message}",
    },
    "de": {
        "reset_title": "Neues Passwort wählen",
        "new_password": "Neues Passwort",
        "confirm_password": "Neues Passwort wiederholen",
        "password_hint": "Mindestens 8 Zeichen, mit einem Buchstaben und einer Ziffer.",
        "reset_submit": "Neues Passwort speichern",
        "reset_done": "Ihr Passwort wurde geändert, und alle Sitzungen Ihres Kontos wurden abgemeldet. Sie können "
        "sich jetzt mit dem neuen Passwort anmelden.",
        "mismatch": "Die beiden Passwörter stimmen nicht überein.",
        "verify_title": "E-Mail-Adresse bestätigen",
        "verify_intro": "Bestätigen Sie die E-Mail-Adresse Ihres Kontos mit der Schaltfläche.",
        "verify_submit": "Bestätigen",
        "verify_done": "Ihre E-Mail-Adresse {email} ist bestätigt.",
        "invite_title": "Einladung annehmen",
        "invite_intro": "Melden Sie sich mit dem Konto der eingeladenen Adresse an, um anzunehmen. Wenn Sie noch "
        "kein Konto haben, legen Sie zuerst eines mit dieser Adresse an und öffnen Sie dann diesen Link erneut.",
        "email": "E-Mail-Adresse",
        "password": "Passwort",
        "invite_submit": "Anmelden und annehmen",
        "invite_done": "Sie haben die Einladung zu {university} angenommen.",
        "missing_token": "Dieser Link ist unvollständig: Öffnen Sie den Link aus Ihrer E-Mail erneut.",
        "invalid_account_token": "Dieser Link ist nicht gültig: Er wurde schon benutzt, ist abgelaufen oder wurde "
        "ersetzt. Fordern Sie einen neuen an.",
        "invalid_credentials": "E-Mail-Adresse oder Passwort sind falsch.",
        "invitation_not_found": "Diese Einladung gibt es nicht, oder sie gilt einer anderen E-Mail-Adresse.",
        "rate_limited": "Zu viele Versuche; versuchen Sie es in einigen Minuten erneut.",
        "error": "Etwas ist schiefgegangen: {message}",
    },
}


def language_from(accept_language: str | None) -> str:
    """The supported language the client prefers most (Accept-Language, with q-values); English otherwise."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().split("-")[0].lower()
        if language in LANGUAGES and quality > 0:
            choices.append((-quality, index, language))
    return min(choices)[2] if choices else "en"
