"""`twosigma lti rotate-key`: sign with a new RSA key from now on; the old one stays published a day."""

from __future__ import annotations

import typer

from twosigma.kit.cli import command_settings, console

lti_app = typer.Typer(help="LTI 1.3 (the tool's keys).", no_args_is_help=True)


@lti_app.command("rotate-key")
def rotate_key_command() -> None:
    """Generate a new signing key; the previous one stays in /lti/jwks.json for a day, then disappears."""
    from twosigma.db.bootstrap import run_in_session
    from twosigma.lti.services.keys import rotate

    settings = command_settings()
    kid = run_in_session(settings, lambda session: rotate(session, settings), upgrade=True)
    console.print(f"New LTI signing key: kid {kid}")
