"""Exports (streamed) and dataset versions (snapshots)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.deps import DatasetDep, EngineDep, SessionDep
from app.api.pagination import IdPath, IdQuery
from app.exports import formats as exports
from app.exports import snapshots
from app.exports.review_filter import ReviewSelection
from app.models import SnapshotCreate, SnapshotPublic
from app.models.reviews import ReviewState

router = APIRouter(prefix="/v1/datasets/{name}", tags=["exports"])

Fraction = Annotated[float, Query(ge=0.0, le=1.0)]


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The rows in the chosen format (NDJSON, a JSON array, or Parquet)",
            "content": {media: {"schema": {"type": "string"}} for media, _ in exports.FORMATS.values()},
        }
    },
)
def export_dataset(
    dataset: DatasetDep,
    session: SessionDep,
    engine: EngineDep,
    format: Literal["alpaca", "sharegpt", "openai", "parquet", "jsonl"] = "jsonl",
    split: Literal["train", "validation", "test", "all"] = "all",
    seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    validation: Fraction = 0.1,
    test: Fraction = 0.1,
    snapshot: IdQuery = None,
    include_seeds: bool = False,
    review: Annotated[list[ReviewState] | None, Query()] = None,
    min_judge_score: Annotated[float | None, Query(ge=1.0, le=5.0)] = None,
) -> StreamingResponse:
    """Stream the dataset's triplets in a training format, optionally one split or one snapshot; only
    rows in the ``review`` states (default: all but reviewer-rejected) and judged ``min_judge_score`` or
    better; reviewers' edits replace the original texts."""
    selection = exports.ExportSelection(
        split=split,
        splits=exports.SplitSpec(seed, validation, test),
        snapshot=snapshots.get_snapshot(session, dataset, snapshot) if snapshot is not None else None,
        include_seeds=include_seeds,
        review=ReviewSelection(tuple(review) if review else None, min_judge_score),
    )

    def stream() -> Iterator[bytes]:
        with Session(engine) as own:  # the request's session closes before the body is sent
            yield from exports.render(exports.iter_rows(own, dataset, selection), format)

    filename = exports.export_filename(dataset, format, selection)
    return StreamingResponse(
        stream(),
        media_type=exports.FORMATS[format][0],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/snapshots", status_code=status.HTTP_201_CREATED, response_model=SnapshotPublic)
def create_snapshot(
    dataset: DatasetDep, session: SessionDep, response: Response, data: SnapshotCreate | None = None
) -> SnapshotPublic:
    """Record the rows an export has now, so ``?snapshot=ID`` reproduces it later."""
    snapshot = snapshots.create_snapshot(session, dataset, data or SnapshotCreate())
    response.headers["Location"] = f"/v1/datasets/{dataset.name}/snapshots/{snapshot.id}"
    return snapshots.snapshot_public(snapshot, dataset)


@router.get("/snapshots", response_model=list[SnapshotPublic])
def list_snapshots(dataset: DatasetDep, session: SessionDep) -> list[SnapshotPublic]:
    """The dataset's snapshots, oldest first."""
    return [snapshots.snapshot_public(s, dataset) for s in snapshots.list_snapshots(session, dataset)]


@router.get("/snapshots/{snapshot_id}", response_model=SnapshotPublic)
def read_snapshot(snapshot_id: IdPath, dataset: DatasetDep, session: SessionDep) -> SnapshotPublic:
    """One snapshot's counts."""
    return snapshots.snapshot_public(snapshots.get_snapshot(session, dataset, snapshot_id), dataset)
