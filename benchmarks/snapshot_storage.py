"""Snapshot storage: every id listed (before) vs high-water marks (now), for a dataset of 100,000 rows.

Builds a SQLite database with one dataset of N accepted tasks, one accepted instance each, and a review on
every 100th task (a tenth of them edits), then takes the same snapshot both ways: before — the instance ids
and the edited reviews' ids as JSON lists (``selected_instances``, what ``create_snapshot`` stored until
0012); now — ``create_snapshot`` (app/exports/snapshot_marks.py). Prints the bytes each stores in the
snapshot row, the time to take it and to export it, and checks that both export the same bytes.

    python benchmarks/snapshot_storage.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.core.db import create_tables, make_engine  # noqa: E402
from app.exports.formats import ExportSelection, iter_rows, render  # noqa: E402
from app.exports.review_filter import ReviewSelection  # noqa: E402
from app.exports.snapshots import create_snapshot, selected_instances  # noqa: E402
from app.models import Dataset, Instruction, Review, Snapshot, SnapshotCreate, TaskInstance  # noqa: E402


def build(session: Session, rows: int) -> Dataset:
    dataset = Dataset(name="big")
    session.add(dataset)
    session.commit()
    tasks = [
        {
            "id": i,
            "dataset_id": dataset.id,
            "origin": "generated",
            "instruction": f"Task number {i}.",
            "accepted": True,
        }
        for i in range(1, rows + 1)
    ]
    session.execute(insert(Instruction), tasks)
    instances = [
        {
            "id": i,
            "dataset_id": dataset.id,
            "instruction_id": i,
            "origin": "generated",
            "input": "",
            "output": f"Answer {i}.",
            "accepted": True,
        }
        for i in range(1, rows + 1)
    ]
    session.execute(insert(TaskInstance), instances)
    reviews = [
        {
            "dataset_id": dataset.id,
            "instruction_id": i,
            "reviewer": "ana",
            "note": "",
            "state": "edited" if i % 1000 == 0 else "approved",
            "edited_text": f"Edited task {i}." if i % 1000 == 0 else None,
        }
        for i in range(100, rows + 1, 100)
    ]
    session.execute(insert(Review), reviews)
    session.commit()
    return dataset


def exported(session: Session, dataset: Dataset, snapshot: Snapshot) -> tuple[bytes, float]:
    started = time.perf_counter()
    data = b"".join(render(iter_rows(session, dataset, ExportSelection(snapshot=snapshot)), "jsonl"))
    return data, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/snapshots.db")
        create_tables(engine)
        with Session(engine) as session:
            started = time.perf_counter()
            dataset = build(session, rows)
            print(
                f"{rows} accepted tasks and instances, {rows // 100} reviews: built in "
                f"{time.perf_counter() - started:.1f}s"
            )

            started = time.perf_counter()
            ids, review_ids = selected_instances(session, dataset, ReviewSelection())
            old = Snapshot(dataset_id=dataset.id, note="", instance_ids=ids, review_ids=review_ids)
            session.add(old)
            session.commit()
            old_take = time.perf_counter() - started
            started = time.perf_counter()
            new = create_snapshot(session, dataset, SnapshotCreate())
            new_take = time.perf_counter() - started

            old_bytes = sum(
                len(json.dumps(v)) for v in (old.instance_ids, old.seed_instruction_ids, old.review_ids)
            )
            new_bytes = sum(
                len(json.dumps(v)) for v in (new.instance_ids, new.seed_instruction_ids, new.marks)
            )
            old_export, old_s = exported(session, dataset, old)
            new_export, new_s = exported(session, dataset, new)
        engine.dispose()
    print(f"{'':24}{'ids listed (before)':>22}{'marks (now)':>14}{'ratio':>10}")
    print(f"{'bytes in the snapshot row':24}{old_bytes:>22,}{new_bytes:>14,}{old_bytes / new_bytes:>9.0f}x")
    print(f"{'take the snapshot, s':24}{old_take:>22.2f}{new_take:>14.2f}")
    print(f"{'export it (jsonl), s':24}{old_s:>22.2f}{new_s:>14.2f}")
    same = old_export == new_export
    print(f"both export the same {len(old_export):,} bytes: {same}; marks stored: {json.dumps(new.marks)}")
    if not same:
        raise SystemExit("the two snapshots export differently")


if __name__ == "__main__":
    main()
