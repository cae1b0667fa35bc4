"""Starred entities, stored per user on the server (so they follow the user around)."""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete, insert, select

from greenroom.catalog.tables import user_stars
from greenroom.db.transactions import write_transaction

# More would make the "Starred" filter a predicate too large to be quick.
MAX_STARS = 200


class StarStore:
    def __init__(self, db: Engine) -> None:
        self.db = db

    def starred(self, user_ref: str) -> list[str]:
        """The user's starred entity refs, most recent first."""
        with self.db.connect() as conn:
            return list(
                conn.execute(
                    select(user_stars.c.entity_ref)
                    .where(user_stars.c.user_ref == user_ref)
                    .order_by(user_stars.c.created_at.desc(), user_stars.c.entity_ref)
                    .limit(MAX_STARS)
                ).scalars()
            )

    def is_starred(self, user_ref: str, entity_ref: str) -> bool:
        with self.db.connect() as conn:
            return (
                conn.execute(
                    select(user_stars.c.entity_ref).where(
                        user_stars.c.user_ref == user_ref,
                        user_stars.c.entity_ref == entity_ref.lower(),
                    )
                ).first()
                is not None
            )

    def set(self, user_ref: str, entity_ref: str, starred: bool) -> None:
        entity_ref = entity_ref.lower()
        where = (user_stars.c.user_ref == user_ref, user_stars.c.entity_ref == entity_ref)
        with write_transaction(self.db) as conn:
            conn.execute(delete(user_stars).where(*where))
            if starred:
                conn.execute(
                    insert(user_stars).values(
                        user_ref=user_ref, entity_ref=entity_ref, created_at=time.time()
                    )
                )
