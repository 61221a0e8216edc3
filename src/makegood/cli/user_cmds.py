"""`makegood user add|list` and `makegood apikey create|list|revoke`: who may use the console
and the API. Lists never show a secret: no password hash, no key, no key hash."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_id, print_json, say
from makegood.domain.errors import InvalidInput
from makegood.domain.money import format_major
from makegood.services.users import (
    SCOPES,
    Role,
    add_user,
    create_api_key,
    list_api_keys,
    list_users,
    parse_grant_limits,
    revoke_api_key,
)


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

    @user.command("list")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
    @handles_errors
    def user_list(as_json: bool) -> None:
        """List console users: id, e-mail, role, goodwill limits, disabled."""
        with container().uow() as uow:
            rows = list_users(uow)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            limits = row["grant_limits"] or {}
            assert isinstance(limits, dict)
            shown = " ".join(f"{c}={format_major(m, c)}" for c, m in sorted(limits.items()))
            state = "disabled" if row["disabled_at"] else "active"
            click.echo(f"{row['id']}\t{row['email']}\t{row['role']}\t{state}\t{shown or '-'}")
        say(f"{len(rows)} user(s)")

    _register_apikey(cli)


def _register_apikey(cli: click.Group) -> None:
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

    @apikey.command("list")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
    @handles_errors
    def apikey_list(as_json: bool) -> None:
        """List API keys, newest first: id, name, scopes, created, revoked (never the key)."""
        with container().uow() as uow:
            rows = list_api_keys(uow)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            scopes = row["scopes"]
            assert isinstance(scopes, list)
            created, revoked = row["created_at"], row["revoked_at"]
            assert isinstance(created, datetime)
            state = f"revoked {revoked.isoformat()}" if isinstance(revoked, datetime) else "live"
            click.echo(
                f"{row['id']}\t{row['name']}\t{','.join(scopes)}\t{created.isoformat()}\t{state}"
            )
        say(f"{len(rows)} key(s)")

    @apikey.command("revoke")
    @click.argument("key_id")
    @handles_errors
    def apikey_revoke(key_id: str) -> None:
        """Revoke an API key at once (audited); revoking it again changes nothing."""
        c = container()
        with c.uow() as uow:
            changed = revoke_api_key(uow, key_id, c.now())
        say(f"API key {key_id} " + ("revoked" if changed else "was revoked already"))
        print_id(key_id)
