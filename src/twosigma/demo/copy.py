"""Bulk writing: rows are buffered per table and sent with COPY (asyncpg's binary `copy_records_to_table`) in
chunks, so memory stays bounded whatever the size; ids are assigned here, above each table's current maximum."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

CHUNK = 50_000


class Reporter(Protocol):
    """Progress of the seed: one phase at a time."""

    def start(self, phase: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class QuietReporter:
    def start(self, phase: str, total: int) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


@dataclass
class PhaseStats:
    name: str
    rows: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Stats:
    phases: list[PhaseStats] = field(default_factory=list)
    tables: Counter[str] = field(default_factory=Counter)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)


class Table:
    def __init__(self, copier: Copier, name: str, columns: Sequence[str]) -> None:
        self.copier = copier
        self.name = name
        self.columns = list(columns)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *row: Any) -> None:
        self.rows.append(row)

    async def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        await self.copier.conn.copy_records_to_table(self.name, records=rows, columns=self.columns)
        self.copier.stats.tables[self.name] += len(rows)
        if self.copier.phase is not None:
            self.copier.phase.rows += len(rows)


class Copier:
    def __init__(self, conn: asyncpg.Connection, reporter: Reporter) -> None:
        self.conn = conn
        self.reporter = reporter
        self.stats = Stats()
        self.tables: dict[str, Table] = {}
        self.next_ids: dict[str, int] = {}
        self.phase: PhaseStats | None = None
        self._started = 0.0

    def table(self, name: str, columns: Sequence[str]) -> Table:
        if name not in self.tables:
            self.tables[name] = Table(self, name, columns)
        return self.tables[name]

    async def reserve_ids(self, tables: Sequence[str]) -> None:
        """Ids continue above each table's current maximum (the caller holds EXCLUSIVE locks on them)."""
        for name in tables:
            current = await self.conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {name}")
            self.next_ids[name] = int(current) + 1

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    async def maybe_flush(self) -> None:
        """When any buffer is full, flush every table in the order they were first used (parents before
        children), so foreign keys always point at rows already written."""
        if any(len(table.rows) >= CHUNK for table in self.tables.values()):
            await self.flush_all()

    async def flush_all(self) -> None:
        for table in self.tables.values():
            await table.flush()

    def start_phase(self, name: str, total: int) -> None:
        self.phase = PhaseStats(name)
        self._started = time.perf_counter()
        self.reporter.start(name, total)

    async def end_phase(self) -> None:
        await self.flush_all()
        assert self.phase is not None
        self.phase.seconds = time.perf_counter() - self._started
        self.stats.phases.append(self.phase)
        self.phase = None
        self.reporter.finish()

    async def sync_sequences(self) -> None:
        """Move each table's id sequence past the ids written here, so the app's inserts do not collide."""
        for name in self.next_ids:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"greatest((SELECT coalesce(max(id), 0) FROM {name}), 1))"
            )
