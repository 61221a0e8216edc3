"""The users, web_sessions and api_keys tables.

Only hashes are stored and looked up: the callers (services/users.py) hash the session id or
the key before asking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.store.repository import Repository
from makegood.store.tables_web import api_keys, users, web_sessions

Row = Mapping[Any, Any]  # a result row by column name (sa.RowMapping)


class Users(Repository):
    """The users, web_sessions and api_keys tables (`uow.users`)."""

    # Users

    def by_email(self, email: str) -> Row | None:
        """id and disabled_at of the user with this (normalised) e-mail, disabled or not."""
        return (
            self.conn.execute(
                sa.select(users.c.id, users.c.disabled_at).where(users.c.email == email)
            )
            .mappings()
            .first()
        )

    def add(
        self,
        user_id: str,
        email: str,
        password_hash: str,
        role: str,
        grant_limits: Mapping[str, int],
        created_at: datetime,
    ) -> None:
        self.conn.execute(
            users.insert().values(
                id=user_id,
                email=email,
                password_hash=password_hash,
                role=role,
                grant_limits=dict(grant_limits),
                created_at=created_at,
            )
        )

    def active_by_email(self, email: str) -> Row | None:
        """The enabled user with this e-mail (every column), else None."""
        return (
            self.conn.execute(
                sa.select(users).where(users.c.email == email, users.c.disabled_at.is_(None))
            )
            .mappings()
            .first()
        )

    def locked(self, *, email: str | None = None, user_id: str | None = None) -> Row | None:
        """id, email, role, disabled_at of the user, locked for update (by id, else e-mail)."""
        where = users.c.id == user_id if user_id is not None else users.c.email == email
        return (
            self.conn.execute(
                sa.select(users.c.id, users.c.email, users.c.role, users.c.disabled_at)
                .where(where)
                .with_for_update()
            )
            .mappings()
            .first()
        )

    def change_ending_sessions(self, user_id: str, **values: object) -> None:
        """Set `values` on the user, raise its session_version and delete its sessions: every
        session opened before (or checked against the old version) opens nothing any more."""
        self.conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_version=users.c.session_version + 1, **values)
        )
        self.conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))

    def listing(self) -> list[dict[str, object]]:
        """Every user by e-mail, without the password hash."""
        rows = self.conn.execute(
            sa.select(
                users.c.id,
                users.c.email,
                users.c.role,
                users.c.grant_limits,
                users.c.created_at,
                users.c.disabled_at,
            ).order_by(users.c.email)
        ).mappings()
        return [dict(r) for r in rows]

    # Sessions

    def open_session(
        self,
        id_hash: str,
        user_id: str,
        csrf_secret: str,
        user_version: int,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.conn.execute(
            web_sessions.insert().values(
                id_hash=id_hash,
                user_id=user_id,
                csrf_secret=csrf_secret,
                user_version=user_version,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def live_session(self, id_hash: str, now: datetime) -> Row | None:
        """The user's columns with the session's csrf_secret and expires_at, when the session
        is unexpired, opened under the user's current version, and the user enabled."""
        return (
            self.conn.execute(
                sa.select(users, web_sessions.c.csrf_secret, web_sessions.c.expires_at)
                .join(web_sessions, web_sessions.c.user_id == users.c.id)
                .where(
                    web_sessions.c.id_hash == id_hash,
                    web_sessions.c.expires_at > now,
                    web_sessions.c.user_version == users.c.session_version,
                    users.c.disabled_at.is_(None),
                )
            )
            .mappings()
            .first()
        )

    def end_session(self, id_hash: str, now: datetime) -> None:
        """Delete the session, and everyone's expired sessions (so the table does not grow
        forever)."""
        self.conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == id_hash))
        self.conn.execute(web_sessions.delete().where(web_sessions.c.expires_at <= now))

    # API keys

    def add_api_key(
        self,
        key_id: str,
        name: str,
        key_hash: str,
        scopes: list[str],
        created_at: datetime,
        owner_user_id: str | None,
    ) -> None:
        self.conn.execute(
            api_keys.insert().values(
                id=key_id,
                name=name,
                key_hash=key_hash,
                scopes=scopes,
                created_at=created_at,
                owner_user_id=owner_user_id,
            )
        )

    def live_api_key(self, key_hash: str) -> Row | None:
        """The key's columns when it is not revoked and its owner (if any) is enabled."""
        return (
            self.conn.execute(
                sa.select(api_keys)
                .outerjoin(users, users.c.id == api_keys.c.owner_user_id)
                .where(
                    api_keys.c.key_hash == key_hash,
                    api_keys.c.revoked_at.is_(None),
                    users.c.disabled_at.is_(None),  # also true without an owner (outer join)
                )
            )
            .mappings()
            .first()
        )

    def api_key_owner_id(self, key_id: str) -> tuple[bool, str | None]:
        """(whether the key exists, the id of the user who owns it or None)."""
        found = self.conn.execute(
            sa.select(api_keys.c.owner_user_id).where(api_keys.c.id == key_id)
        ).first()
        if found is None:
            return False, None
        return True, found.owner_user_id

    def api_key_listing(self) -> list[dict[str, object]]:
        """Every key, newest first, with its owner's e-mail; never the key's hash."""
        k = api_keys
        rows = self.conn.execute(
            sa.select(
                k.c.id,
                k.c.name,
                k.c.scopes,
                users.c.email.label("owner"),
                k.c.created_at,
                k.c.revoked_at,
            )
            .outerjoin(users, users.c.id == k.c.owner_user_id)
            .order_by(k.c.created_at.desc(), k.c.id.desc())
        ).mappings()
        return [dict(r) for r in rows]

    def lock_api_key(self, key_id: str) -> Row | None:
        """The key's revoked_at, locked for update; None for an unknown id."""
        return (
            self.conn.execute(
                sa.select(api_keys.c.revoked_at).where(api_keys.c.id == key_id).with_for_update()
            )
            .mappings()
            .first()
        )

    def revoke_api_key(self, key_id: str, now: datetime) -> None:
        self.conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=now))
