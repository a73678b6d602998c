"""The sealed values: the key check in `meta`, and paging through what `resume keys rotate`
re-seals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from resume.tables import field_values, meta, prequals


def get_meta(conn: Connection, name: str) -> str | None:
    return conn.execute(select(meta.c.value).where(meta.c.name == name)).scalar_one_or_none()


def put_meta(conn: Connection, name: str, value: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(meta).values(name=name, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.name], set_={"value": value}))


def add_meta(conn: Connection, name: str, value: str) -> None:
    """Insert unless another process got there first (then its value stands)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(meta)
        .values(name=name, value=value)
        .on_conflict_do_nothing(index_elements=[meta.c.name])
    )


def count_sealed(conn: Connection) -> int:
    values = conn.execute(select(func.count()).where(field_values.c.sealed)).scalar_one()
    results = conn.execute(select(func.count()).where(prequals.c.result.is_not(None))).scalar_one()
    return int(values) + int(results)


def sealed_values_after(conn: Connection, after: tuple[str, str] | None, limit: int) -> list[Any]:
    """The next page of sealed field values, in key order."""
    query = select(field_values.c.draft_id, field_values.c.name, field_values.c.value).where(
        field_values.c.sealed
    )
    if after is not None:
        query = query.where(
            or_(
                field_values.c.draft_id > after[0],
                and_(field_values.c.draft_id == after[0], field_values.c.name > after[1]),
            )
        )
    order = (field_values.c.draft_id, field_values.c.name)
    return list(conn.execute(query.order_by(*order).limit(limit)))


def reseal_values(conn: Connection, rows: list[dict[str, str]]) -> None:
    """Write re-sealed text (rows keyed b_draft, b_name, b_old, b_value). A row saved since
    it was read is left alone: its new text is already sealed with the newest key."""
    if rows:
        conn.execute(
            update(field_values)
            .where(
                field_values.c.draft_id == bindparam("b_draft"),
                field_values.c.name == bindparam("b_name"),
                field_values.c.sealed,
                field_values.c.value == bindparam("b_old"),
            )
            .values(value=bindparam("b_value")),
            rows,
        )


def sealed_results_after(conn: Connection, after: str | None, limit: int) -> list[Any]:
    query = select(prequals.c.draft_id, prequals.c.result).where(prequals.c.result.is_not(None))
    if after is not None:
        query = query.where(prequals.c.draft_id > after)
    return list(conn.execute(query.order_by(prequals.c.draft_id).limit(limit)))


def reseal_results(conn: Connection, rows: list[dict[str, str]]) -> None:
    if rows:
        conn.execute(
            update(prequals)
            .where(
                prequals.c.draft_id == bindparam("b_draft"),
                prequals.c.result == bindparam("b_old"),
            )
            .values(result=bindparam("b_value")),
            rows,
        )
