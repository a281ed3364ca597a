"""One INSERT for many rows whose values are mostly the same (a campaign's chunk: 500 bonus rows that differ only
by the player, 500 award postings that differ by player and reference).

A multi-row ``VALUES`` list costs a placeholder per value: psycopg then splits and converts a statement of some
15,000 parameters in Python on every chunk, and the statement is never the same twice. Here a column whose value
is the same in every row is ONE parameter (``CAST(%s AS type)``) and a column that varies is ONE array unnested
beside the others: a handful of parameters, the same statement text for every chunk of a kind.

Only column names and types (from the models' fields, never input) are formatted into the SQL; every value is a
parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def insert_select(
    table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """``INSERT INTO table (...) SELECT ...`` for ``rows`` (values in ``columns``' order, ready for the driver)
    and its parameters; the caller appends ``ON CONFLICT`` / ``RETURNING``. ``columns`` are (name, SQL type).
    A column of an array type must hold the same value in every row (arrays do not unnest by row)."""
    if not rows:
        raise ValueError("insert_select: no rows")
    select: list[str] = []
    unnest: list[str] = []
    constants: list[Any] = []
    arrays: list[Any] = []
    for i, (name, sql_type) in enumerate(columns):
        values = [row[i] for row in rows]
        first = values[0]
        if all(type(v) is type(first) and v == first for v in values):
            select.append(f"CAST(%s AS {sql_type})")
            constants.append(first)
            continue
        if sql_type.endswith("]"):
            raise ValueError(f"insert_select: {name} ({sql_type}) differs between rows")
        select.append(f"v.c{len(arrays)}")
        unnest.append(f"CAST(%s AS {sql_type}[])")
        arrays.append(values)
    names = ", ".join(name for name, _ in columns)
    sql = f"INSERT INTO {table} ({names}) SELECT {', '.join(select)}"  # names and types only
    if arrays:
        sql += f" FROM unnest({', '.join(unnest)}) AS v({', '.join(f'c{i}' for i in range(len(arrays)))})"
    elif len(rows) > 1:  # every row the same: as many copies as rows
        sql += " FROM generate_series(1, %s)"
        arrays.append(len(rows))
    return sql, [*constants, *arrays]
