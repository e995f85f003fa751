"""``ringtrace web ...``: serve the web app and manage its users and grants from the shell."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ringtrace.case import Case, CaseError
from ringtrace.cli._app import app
from ringtrace.web.users import WebStore, WebStoreError

web_app = typer.Typer(no_args_is_help=True, help="The web app: serve it, manage users and grants.")
users_app = typer.Typer(no_args_is_help=True, help="Web users.")
web_app.add_typer(users_app, name="users")
app.add_typer(web_app, name="web")

HomeOpt = Annotated[Path, typer.Option("--home", help="Web home folder (holds web.sqlite).")]


def _fail(msg: str) -> NoReturn:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


@web_app.command("serve")
def serve(home: HomeOpt, host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8765,
          insecure_cookies: Annotated[bool, typer.Option(
              help="Send the session cookie over plain HTTP (only for localhost without TLS).")] = False,
          signing_key: Annotated[Path | None, typer.Option(
              help="Ed25519 private key (ringtrace keys new) that packages made in the web app are signed with."
          )] = None,
          category_scheme: Annotated[Path | None, typer.Option(
              help="Category scheme JSON for media categorisation (default: Project VIC's categories).")] = None,
          classification: Annotated[str | None, typer.Option(
              help="Marking on every page of the packages' reports (default: RINGTRACE_CLASSIFICATION).")] = None,
          ) -> None:
    """Serve the web app (put it behind a TLS proxy for anything but localhost)."""
    # The server and the app are loaded only to serve: every other command works without starting them.
    import uvicorn

    from ringtrace.web.app import create_app
    from ringtrace.web.settings import WebSettings

    local = host in ("127.0.0.1", "localhost", "::1")
    # Localhost without TLS cannot use Secure cookies; anywhere else Secure stays on unless asked otherwise.
    secure = not (insecure_cookies or local)
    if signing_key is not None:
        from ringtrace.dissemination.signing import SigningError, load_private_key

        try:
            load_private_key(signing_key)  # a bad key is said now, not at the first package
        except SigningError as e:
            _fail(str(e))
    if category_scheme is not None:
        from ringtrace.matching.hashsets import CategoryScheme, HashListError

        try:
            CategoryScheme.from_json(category_scheme)
        except HashListError as e:
            _fail(str(e))
    web = create_app(WebSettings(home=home, secure_cookies=secure, signing_key=signing_key,
                                 category_scheme_file=category_scheme, classification=classification))
    typer.echo(f"ringtrace web on http://{host}:{port} (home {home}; Secure cookies {'on' if secure else 'off'})")
    uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)


@users_app.command("add")
def users_add(home: HomeOpt, name: Annotated[str, typer.Argument(help="User name.")],
              role: Annotated[str, typer.Option(help="investigator | supervisor | admin")],
              password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False) -> None:
    """Add a web user (password prompted, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = WebStore(home)
    try:
        store.add_user(name, password, role)
    except WebStoreError as e:
        _fail(str(e))
    store.log("admin.user_add", "cli", "local", target=name, detail={"role": role})
    typer.echo(f"user {name} ({role}) added")


@users_app.command("list")
def users_list(home: HomeOpt) -> None:
    """List web users."""
    for u in WebStore(home).list_users():
        typer.echo(f"{u.name}\t{u.role}\t{'disabled' if u.disabled else 'active'}")


@users_app.command("disable")
def users_disable(home: HomeOpt, name: str) -> None:
    """Disable a user and end their sessions."""
    store = WebStore(home)
    try:
        store.set_disabled(name, True)
    except WebStoreError as e:
        _fail(str(e))
    store.log("admin.user_disabled", "cli", "local", target=name)
    typer.echo(f"user {name} disabled")


@web_app.command("grant")
def grant(home: HomeOpt, name: Annotated[str, typer.Argument(help="User name.")],
          case_path: Annotated[Path, typer.Argument(help="The case folder.")],
          victims: Annotated[bool, typer.Option("--victims", help="Also let them read the case's possible victims "
                                                                   "(people named in notes; the case must be "
                                                                   "granted already).")] = False) -> None:
    """Let a user read a case (registers the case with the web home if new)."""
    store = WebStore(home)
    try:
        entry = store.grant_victims(name, case_path, by="cli") if victims else store.grant(name, case_path, by="cli")
    except WebStoreError as e:
        _fail(str(e))
        return
    action = "victims_grant" if victims else "grant"
    store.log(f"admin.{action}", "cli", "local", case_id=entry.id, target=name)
    try:
        with Case.open(entry.path) as c:
            c.log(f"web.{action}", {"user": name, "by": "cli"})
    except CaseError as e:
        _fail(str(e))
    what = "the possible victims of " if victims else ""
    typer.echo(f"{name} may now read {what}case {entry.id} ({entry.name})")
