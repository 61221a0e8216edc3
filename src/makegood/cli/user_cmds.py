"""`makegood user add|list|disable|enable|role|password` and `makegood apikey
create|list|revoke`: who may use the console and the API. Lists never show a secret: no
password hash, no key, no key hash. Disable, role and password end the user's sessions at once
(services.user_admin)."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_id, print_json, say
from makegood.domain.errors import InvalidInput
from makegood.domain.money import format_major
from makegood.services.user_admin import find_user_id, set_disabled, set_password, set_role
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
            uow.commit()
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

    _register_lockout(user)
    _register_apikey(cli)


def _register_lockout(user: click.Group) -> None:
    @user.command("disable")
    @click.argument("email")
    @handles_errors
    def user_disable(email: str) -> None:
        """Lock the user out: sessions end at once, sign-in and their API keys refused."""
        _toggle(email, disabled=True)

    @user.command("enable")
    @click.argument("email")
    @handles_errors
    def user_enable(email: str) -> None:
        """Let a disabled user sign in again."""
        _toggle(email, disabled=False)

    @user.command("role")
    @click.argument("email")
    @click.option("--role", required=True, help=f"One of {', '.join(r.value for r in Role)}.")
    @handles_errors
    def user_role(email: str, role: str) -> None:
        """Change the user's role; their sessions end at once."""
        c = container()
        with c.uow() as uow:
            user_id = find_user_id(uow, email)
            changed = set_role(uow, user_id, role, c.now())
            uow.commit()
        say(f"role {role} " + ("given; their sessions ended" if changed else "was theirs already"))
        print_id(user_id)

    @user.command("password")
    @click.argument("email")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @handles_errors
    def user_password(email: str, password_stdin: bool) -> None:
        """Set a new password; the user's sessions end at once."""
        c = container()
        with c.uow() as uow:
            user_id = find_user_id(uow, email)  # unknown user: exit 3 before asking
        password = _read_password(password_stdin)
        with c.uow() as uow:
            set_password(uow, user_id, password, c.now())
            uow.commit()
        say("password set; their sessions ended")
        print_id(user_id)


def _toggle(email: str, disabled: bool) -> None:
    c = container()
    with c.uow() as uow:
        user_id = find_user_id(uow, email)
        changed = set_disabled(uow, user_id, disabled, c.now())
        uow.commit()
    word = "disabled" if disabled else "enabled"
    say(f"user {word}" + ("" if changed else " already; nothing changed"))
    print_id(user_id)


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
    @click.option(
        "--owner",
        default=None,
        metavar="EMAIL",
        help="The console user who stands behind the key (four-eyes rule; disabling them "
        "disables it). Without it the key is its own person.",
    )
    @handles_errors
    def apikey_create(scopes: tuple[str, ...], name: str, owner: str | None) -> None:
        """Create an API key and print it once (it cannot be shown again)."""
        c = container()
        with c.uow() as uow:
            key_id, raw = create_api_key(uow, scopes, name, c.now(), owner=owner)
            uow.commit()
        say(f"API key {key_id} created; store it now, it is not shown again")
        click.echo(raw)

    @apikey.command("list")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
    @handles_errors
    def apikey_list(as_json: bool) -> None:
        """List API keys, newest first: id, name, scopes, owner, created, revoked (never the
        key)."""
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
                f"{row['id']}\t{row['name']}\t{','.join(scopes)}\t{row['owner'] or '-'}\t"
                f"{created.isoformat()}\t{state}"
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
            uow.commit()
        say(f"API key {key_id} " + ("revoked" if changed else "was revoked already"))
        print_id(key_id)
