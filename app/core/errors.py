"""Domain errors raised by services; app/api/errors.py turns each into the one HTTP error shape."""

from __future__ import annotations

from typing import Any, TypeVar

Row = TypeVar("Row")


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(self, message: str, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class InvalidInput(ServiceError):
    status = 422
    code = "invalid_input"


class QueueFull(ServiceError):
    status = 429
    code = "queue_full"
    headers = {"Retry-After": "5"}


class NotReady(ServiceError):
    status = 503
    code = "not_ready"


def get_or_not_found(session: Any, model: type[Row], key: int, what: str) -> Row:
    """``session.get(model, key)``, or :class:`NotFound` naming ``what`` and ``key``."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} does not exist")
    return row


def get_in_dataset(session: Any, model: type[Row], key: int, dataset: Any, what: str) -> Row:
    """``session.get(model, key)`` when the row belongs to ``dataset``, else :class:`NotFound` saying the
    dataset has no such ``what`` (a row of another dataset is not shown)."""
    row = session.get(model, key)
    if row is None or getattr(row, "dataset_id", None) != dataset.id:
        raise NotFound(f"dataset {dataset.name!r} has no {what} {key}")
    return row
