"""Process-wide logging set-up: text (the default) or one JSON object a line (``SI_LOG_FORMAT=json``).

Every line carries the context it was logged in, from context variables: ``request_id`` while an HTTP
request is handled (app/api/request_id.py: the client's ``X-Request-ID`` or a generated one) and
``job_id`` while a job runs (app/jobs/worker.py). Both formats redact API keys (``si_`` + 43 URL-safe
characters) wherever they would appear in a message, so a key pasted into a URL or an error never
reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[int | None] = ContextVar("job_id", default=None)

API_KEY_PATTERN = re.compile(r"si_[A-Za-z0-9_-]{43}")
REDACTED = "si_[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"


def redact(text: str) -> str:
    """``text`` with every API key replaced by ``si_[redacted]``."""
    return API_KEY_PATTERN.sub(REDACTED, text)


class LogContext(logging.Filter):
    """Puts the request id and the job id on each record, and redacts API keys from its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        request, job = request_id.get(), job_id.get()
        record.__dict__.update(request_id=request, job_id=job)
        parts = [f"request={request}"] if request else []
        parts += [f"job={job}"] if job is not None else []
        record.__dict__["context"] = f" [{' '.join(parts)}]" if parts else ""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id / job_id when set, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The handler :func:`configure_logging` installs (found again and replaced by a later call)."""


def configure_logging(level: str = "INFO", log_format: str = "text", stream: IO[str] | None = None) -> None:
    """Log to ``stream`` (stderr) at ``level`` in ``log_format`` (``text`` or ``json``); calling again
    reconfigures. Python warnings are logged too, so with ``json`` they are JSON lines as well."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(handler)
    logging.captureWarnings(True)
    handler = _ServiceHandler(stream)
    handler.addFilter(LogContext())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
