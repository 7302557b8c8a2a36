"""The acceptor's earlier paths, as ``benchmarks/acceptor_ceiling.py`` patches them back in to compare."""

from __future__ import annotations


def insert_row_by_row(session: object, rows: list[dict]) -> list:
    """The acceptor's inserts before bulk inserts: one table object per row, a flush per accepted row."""
    from app.models import Instruction

    stored = []
    for values in rows:
        row = Instruction(**values)
        session.add(row)  # type: ignore[attr-defined]
        if row.accepted:
            session.flush()  # type: ignore[attr-defined]
        stored.append(row)
    session.flush()  # type: ignore[attr-defined]
    return stored


class NoPreparer:
    """Stands in for the request preparer in the older paths: nothing is prepared ahead."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def expect(self, future: object, prompt: object) -> None:
        return None

    def take(self, future: object) -> None:
        return None

    def drop_all(self) -> None:
        return None

    def close(self) -> None:
        return None


class _Unprepared:
    """Stands in for a prepared batch in the old path: every part is 'not prepared'."""

    def part(self, start: int, stop: int, candidates: object) -> None:
        return None


def nothing_prepared(*args: object, **kwargs: object) -> _Unprepared:
    return _Unprepared()
