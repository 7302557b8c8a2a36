from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.db import make_engine, postgres_url
from app.core.settings import Settings


def test_postgresql_urls_mean_psycopg_3():
    assert postgres_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert postgres_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert postgres_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert make_engine("postgresql://u@h/db").dialect.driver == "psycopg"


def test_the_heartbeat_must_fit_twice_in_the_lease():
    assert Settings(job_lease_s=10, job_heartbeat_s=5, _env_file=None).job_lease_s == 10
    with pytest.raises(ValidationError, match="SI_JOB_HEARTBEAT_S must be at most half of SI_JOB_LEASE_S"):
        Settings(job_lease_s=10, job_heartbeat_s=6, _env_file=None)
