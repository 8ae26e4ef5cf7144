"""Migration 0010 chains every existing message to the one before it in its session, so each conversation stored
before branches is one path, and makes each session's newest message its active leaf."""

from __future__ import annotations

from sqlalchemy import text

from tests.fixtures.database import create_scratch_database, drop_database
from twosigma.config import Settings
from twosigma.db import migrate
from twosigma.db.engine import make_engine


class TestBranchMigration:
    async def test_existing_messages_become_one_path_per_session(self, server_url: str, settings: Settings) -> None:
        url = await create_scratch_database(server_url)
        engine = make_engine(url, settings)
        try:
            await migrate.upgrade(engine, "0008")
            async with engine.begin() as conn:
                user = (
                    await conn.execute(
                        text(
                            "INSERT INTO users (email, password_hash, full_name) "
                            "VALUES ('a@example.org', 'x', 'A') RETURNING id"
                        )
                    )
                ).scalar_one()
                sessions = [
                    (
                        await conn.execute(
                            text("INSERT INTO chat_sessions (user_id) VALUES (:u) RETURNING id"), {"u": user}
                        )
                    ).scalar_one()
                    for _ in range(3)  # the third has no messages
                ]
                # Interleaved, as two conversations going on at once were stored.
                order = [0, 1, 0, 0, 1, 0, 1]
                for n, which in enumerate(order):
                    await conn.execute(
                        text(
                            "INSERT INTO chat_messages (session_id, role, content) "
                            "VALUES (:s, CAST(:r AS message_role), :c)"
                        ),
                        {"s": sessions[which], "r": "USER" if n % 2 == 0 else "ASSISTANT", "c": f"m{n}"},
                    )

            await migrate.upgrade(engine)

            async with engine.connect() as conn:
                for chat in sessions[:2]:
                    rows = (
                        await conn.execute(
                            text("SELECT id, parent_message_id FROM chat_messages WHERE session_id = :s ORDER BY id"),
                            {"s": chat},
                        )
                    ).all()
                    ids = [r.id for r in rows]
                    assert [r.parent_message_id for r in rows] == [None, *ids[:-1]]
                    leaf = await conn.scalar(
                        text("SELECT active_leaf_message_id FROM chat_sessions WHERE id = :s"), {"s": chat}
                    )
                    assert leaf == ids[-1]
                empty_leaf = await conn.scalar(
                    text("SELECT active_leaf_message_id FROM chat_sessions WHERE id = :s"), {"s": sessions[2]}
                )
                assert empty_leaf is None

            await migrate.downgrade(engine, "0008")
            await migrate.upgrade(engine)
            assert await migrate.is_at_head(engine)
        finally:
            await engine.dispose()
            await drop_database(url)
