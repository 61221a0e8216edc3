"""`makegood user add` and `makegood apikey create`: who may use the console and the API."""

from __future__ import annotations

import sys

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_id, say
from makegood.domain.errors import InvalidInput
from makegood.services.users import SCOPES, Role, add_user, create_api_key, parse_grant_limits


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # First line only, without its newline: `printf '%s\n' "$PW" | makegood user add ...`.
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password: use --password-stdin")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return value


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""

    @cli.group()
    def user() -> None:
        """Console users (passwords stored as argon2 hashes)."""

    @user.command("add")
    @click.argument("email")
    @click.option(
        "--role",
        required=True,
        type=click.Choice([r.value for r in Role]),
        help="What they may do.",
    )
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @click.option(
        "--grant-limit",
        "grant_limits",
        multiple=True,
        metavar="CUR=AMOUNT",
        help="Largest goodwill grant an agent may give, per currency (repeatable).",
    )
    @handles_errors
    def user_add(
        email: str, role: str, password_stdin: bool, grant_limits: tuple[str, ...]
    ) -> None:
        """Create a console user; prints the new user id."""
        limits = parse_grant_limits(grant_limits)
        password = _read_password(password_stdin)
        c = container()
        with c.uow() as uow:
            user_id = add_user(uow, email, role, password, c.now(), limits)
        say(f"user created with role {role}")
        print_id(user_id)

    @cli.group()
    def apikey() -> None:
        """API keys for /api/v1 (only their SHA-256 is stored)."""

    @apikey.command("create")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        required=True,
        type=click.Choice(sorted(SCOPES)),
        help="What the key may do (repeatable).",
    )
    @click.option("--name", default="", help="A label to recognise the key by.")
    @handles_errors
    def apikey_create(scopes: tuple[str, ...], name: str) -> None:
        """Create an API key and print it once (it cannot be shown again)."""
        c = container()
        with c.uow() as uow:
            key_id, raw = create_api_key(uow, scopes, name, c.now())
        say(f"API key {key_id} created; store it now, it is not shown again")
        click.echo(raw)
