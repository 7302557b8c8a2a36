"""``selfinstruct serve`` with the fake backend slowed down (``FAKE_DELAY_S``), run as a process by tests.

Configured like the real command, by ``SI_*`` environment variables.
"""

from __future__ import annotations

import os

from app.cli.serve import run_server
from app.core.logging import configure_logging
from app.core.settings import Settings
from generators.backends.fake import FakeBackend

if __name__ == "__main__":
    settings = Settings(backend="fake", _env_file=None)
    configure_logging(settings.log_level, settings.log_format)
    run_server(settings, FakeBackend(delay_s=float(os.environ.get("FAKE_DELAY_S", "0"))))
