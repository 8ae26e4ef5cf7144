"""The migrated database matches the schema reference, read from the PostgreSQL catalog.

Expectations live in `schema_expectations.py`, written from the reference document, not from the models: this
catches a model and its migration drifting together away from the reference, which an autogenerate diff cannot.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.db.schema_expectations import ENUMS, HNSW_INDEX_PREFIX, TABLES, VECTOR_TABLES, Table

_FK_RULES = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

_COLUMNS_SQL = """
SELECT c.relname AS table_name,
       a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS formatted_type,
       t.typtype::text AS type_kind,
       t.typname AS type_name,
       NOT a.attnotnull AS nullable,
       a.attidentity <> '' AS is_identity,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
"""

_INDEXES_SQL = """
SELECT c.relname AS table_name,
       i.relname AS index_name,
       am.amname AS method,
       ix.indisunique AS is_unique,
       ix.indisprimary AS is_primary,
       con.oid IS NOT NULL AS backs_constraint,
       ix.indpred IS NOT NULL AS is_partial,
       ix.indexprs IS NOT NULL AS has_expressions,
       ARRAY(
           SELECT a.attname
           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS columns
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.contype IN ('p', 'u')
"""

_FKS_SQL = """
SELECT c.relname AS table_name,
       con.conname AS constraint_name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
       rc.relname AS target_table,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS target_columns,
       con.confdeltype::text AS on_delete
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_class rc ON rc.oid = con.confrelid
WHERE con.contype = 'f'
"""

_CHECKS_SQL = """
SELECT c.relname AS table_name, con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
WHERE con.contype = 'c'
"""

_ENUMS_SQL = """
SELECT t.typname AS type_name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
GROUP BY t.typname
"""


async def _fetch(engine: AsyncEngine, sql: str) -> Sequence[Row[Any]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text(sql))).all()
    # The embedding worker's HNSW indexes (one per dimension, created when first needed) are not the migration's.
    return [row for row in rows if not str(getattr(row, "index_name", "")).startswith(HNSW_INDEX_PREFIX)]


async def _tables(engine: AsyncEngine) -> dict[str, Table]:
    """The reference tables, with the vector part where the server has the `vector` extension."""
    async with engine.connect() as conn:
        vector = await conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
    return {**TABLES, **VECTOR_TABLES} if vector else dict(TABLES)


def _by_table(rows: Sequence[Row[Any]]) -> dict[str, list[Row[Any]]]:
    grouped: dict[str, list[Row[Any]]] = {}
    for row in rows:
        grouped.setdefault(row.table_name, []).append(row)
    return grouped


def _column_type(row: Row[Any]) -> str:
    return f"enum:{row.type_name}" if row.type_kind == "e" else str(row.formatted_type)


def _normalized_check(definition: str) -> str:
    body = re.sub(r"^CHECK\s*", "", definition)
    body = body.replace("(", " ").replace(")", " ")
    return " ".join(body.split())


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(problems)


class TestSchemaMatchesReference:
    async def test_tables_are_exactly_the_reference_tables(self, db_engine: AsyncEngine) -> None:
        rows = await _fetch(db_engine, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        actual = {row.tablename for row in rows}
        expected = set(await _tables(db_engine)) | {"alembic_version"}
        assert actual == expected, (
            f"missing tables: {sorted(expected - actual)}; unexpected tables: {sorted(actual - expected)}"
        )

    async def test_columns_have_the_reference_types_and_nullability(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _COLUMNS_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            columns = {row.column_name: row for row in actual.get(table, [])}
            for name in sorted(set(spec.columns) - set(columns)):
                problems.append(f"{table}.{name}: missing")
            for name in sorted(set(columns) - set(spec.columns)):
                problems.append(f"{table}.{name}: not in the reference")
            for name, expected in spec.columns.items():
                row = columns.get(name)
                if row is None:
                    continue
                if _column_type(row) != expected.type:
                    problems.append(f"{table}.{name}: type {_column_type(row)!r}, expected {expected.type!r}")
                if row.nullable != expected.nullable:
                    want = "NULL" if expected.nullable else "NOT NULL"
                    problems.append(f"{table}.{name}: expected {want}")
        assert not problems, _report(problems)

    async def test_columns_have_the_reference_defaults(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _COLUMNS_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            columns = {row.column_name: row for row in actual.get(table, [])}
            for name, expected in spec.columns.items():
                row = columns.get(name)
                if row is None:
                    problems.append(f"{table}.{name}: missing")
                    continue
                default = "<identity>" if row.is_identity else row.default_expr
                if expected.default is None:
                    if default is not None:
                        problems.append(f"{table}.{name}: unexpected default {default!r}")
                elif default is None:
                    problems.append(f"{table}.{name}: no default, expected one matching {expected.default!r}")
                elif not re.fullmatch(expected.default, default):
                    problems.append(f"{table}.{name}: default {default!r} does not match {expected.default!r}")
        assert not problems, _report(problems)

    async def test_every_table_has_the_reference_primary_key(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _INDEXES_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            keys = [tuple(row.columns) for row in actual.get(table, []) if row.is_primary]
            if keys != [spec.primary_key]:
                problems.append(f"{table}: primary key {keys}, expected {spec.primary_key}")
        assert not problems, _report(problems)

    async def test_unique_constraints_are_the_reference_ones(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _INDEXES_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            rows = [row for row in actual.get(table, []) if row.is_unique and not row.is_primary]
            for row in rows:
                if row.is_partial or row.has_expressions:
                    problems.append(f"{table}: unique index {row.index_name} is partial or on expressions")
            uniques = {tuple(row.columns) for row in rows}
            for columns in sorted(spec.unique - uniques):
                problems.append(f"{table}: missing unique {columns}")
            for columns in sorted(uniques - spec.unique):
                problems.append(f"{table}: unexpected unique {columns}")
        assert not problems, _report(problems)

    async def test_foreign_keys_point_where_the_reference_says_with_its_on_delete(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _FKS_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            found: dict[str, tuple[str, str]] = {}
            for row in actual.get(table, []):
                if len(row.columns) != 1:
                    problems.append(f"{table}: composite foreign key {row.constraint_name} {row.columns}")
                    continue
                target = f"{row.target_table}.{row.target_columns[0]}"
                found[row.columns[0]] = (target, _FK_RULES[row.on_delete])
            for column in sorted(set(spec.fks) - set(found)):
                problems.append(f"{table}.{column}: missing foreign key to {spec.fks[column][0]}")
            for column in sorted(set(found) - set(spec.fks)):
                problems.append(f"{table}.{column}: unexpected foreign key to {found[column][0]}")
            for column, expected in spec.fks.items():
                if column in found and found[column] != expected:
                    problems.append(
                        f"{table}.{column}: references {found[column][0]} ON DELETE {found[column][1]}, "
                        f"expected {expected[0]} ON DELETE {expected[1]}"
                    )
        assert not problems, _report(problems)

    async def test_indexes_are_the_reference_ones_with_their_methods(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _INDEXES_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            # Indexes backing a primary key or unique constraint are covered by the tests above.
            rows = [row for row in actual.get(table, []) if not row.backs_constraint]
            for row in rows:
                if row.is_partial or row.has_expressions:
                    problems.append(f"{table}: index {row.index_name} is partial or on expressions")
            found = Counter((tuple(row.columns), row.method, row.is_unique) for row in rows)
            wanted = Counter((idx.columns, idx.method, idx.unique) for idx in spec.indexes)
            for columns, method, unique in sorted((wanted - found).elements()):
                problems.append(f"{table}: missing {'unique ' if unique else ''}{method} index on {columns}")
            for columns, method, unique in sorted((found - wanted).elements()):
                problems.append(f"{table}: unexpected {'unique ' if unique else ''}{method} index on {columns}")
        assert not problems, _report(problems)

    async def test_indexes_named_by_the_reference_have_exactly_those_names(self, db_engine: AsyncEngine) -> None:
        rows = await _fetch(db_engine, _INDEXES_SQL)
        by_name = {row.index_name: row for row in rows}
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            for idx in spec.indexes:
                if idx.name is None:
                    continue
                row = by_name.get(idx.name)
                if row is None:
                    problems.append(f"{table}: no index named {idx.name}")
                elif (row.table_name, tuple(row.columns), row.method, row.is_unique) != (
                    table,
                    idx.columns,
                    idx.method,
                    idx.unique,
                ):
                    problems.append(
                        f"{idx.name}: on {row.table_name}{tuple(row.columns)} using {row.method} "
                        f"(unique={row.is_unique}), expected {table}{idx.columns} using {idx.method} "
                        f"(unique={idx.unique})"
                    )
        assert not problems, _report(problems)

    async def test_every_foreign_key_column_leads_an_index(self, db_engine: AsyncEngine) -> None:
        indexes = _by_table(await _fetch(db_engine, _INDEXES_SQL))
        problems: list[str] = []
        for row in await _fetch(db_engine, _FKS_SQL):
            leading = {tuple(idx.columns[: len(row.columns)]) for idx in indexes.get(row.table_name, [])}
            if tuple(row.columns) not in leading:
                problems.append(f"{row.table_name}.{','.join(row.columns)}: foreign key without an index")
        assert not problems, _report(problems)

    async def test_enum_types_have_the_reference_values_in_order(self, db_engine: AsyncEngine) -> None:
        actual = {row.type_name: list(row.labels) for row in await _fetch(db_engine, _ENUMS_SQL)}
        problems = [f"enum {name}: missing" for name in sorted(set(ENUMS) - set(actual))]
        problems += [f"enum {name}: not in the reference" for name in sorted(set(actual) - set(ENUMS))]
        for name, values in ENUMS.items():
            if name in actual and actual[name] != values:
                problems.append(f"enum {name}: values {actual[name]}, expected {values}")
        assert not problems, _report(problems)

    async def test_check_constraints_are_the_reference_ones(self, db_engine: AsyncEngine) -> None:
        actual = _by_table(await _fetch(db_engine, _CHECKS_SQL))
        problems: list[str] = []
        for table, spec in (await _tables(db_engine)).items():
            found = {row.constraint_name: _normalized_check(row.definition) for row in actual.get(table, [])}
            for name in sorted(set(spec.checks) - set(found)):
                problems.append(f"{table}: missing check {name}")
            for name in sorted(set(found) - set(spec.checks)):
                problems.append(f"{table}: unexpected check {name} ({found[name]})")
            for name, definition in spec.checks.items():
                if name in found and found[name] != definition:
                    problems.append(f"{table}: check {name} is {found[name]!r}, expected {definition!r}")
        assert not problems, _report(problems)
