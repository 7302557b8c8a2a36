"""API keys: off by default; once one exists every /v1 write without a valid key is 401/403 and changes
nothing; scopes read < write < admin; keys are stored hashed and never appear in logs or responses."""

from __future__ import annotations

import logging

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from app.cli import app as cli
from app.core import auth
from app.models import ApiKey, Dataset, Job
from tests.conftest import assert_error


def counts(client) -> tuple[int, int]:
    with Session(client.app_state.engine) as session:
        datasets = session.exec(select(func.count()).select_from(Dataset)).one()
        jobs = session.exec(select(func.count()).select_from(Job)).one()
    return datasets, jobs


WRITES = [
    ("post", "/v1/datasets", {"json": {"name": "other"}}),
    ("post", "/v1/datasets/default/jobs", {"json": {"target": 1}}),
    ("post", "/v1/datasets/default/candidates", {"json": {"instructions": ["Plan a picnic for six."]}}),
    ("post", "/v1/schedules", {"json": {"dataset": "default", "cron": "0 3 * * *", "target": 1}}),
    ("delete", "/v1/datasets/default", {}),
]


async def test_keys_are_off_until_one_exists_then_required(client, caplog):
    caplog.set_level(logging.DEBUG)
    assert (await client.get("/v1/datasets")).status_code == 200  # no key needed yet
    with Session(client.app_state.engine) as session:
        reader, read_key = auth.create_key(session, "dashboard", "read")
        _, write_key = auth.create_key(session, "pipeline", "write")
        _, admin_key = auth.create_key(session, "operator", "admin")
        stored = [row.key_hash for row in session.exec(select(ApiKey))]
    assert all(key not in stored for key in (read_key, write_key, admin_key))  # only hashes
    client.app_state.keys.forget()
    before = counts(client)
    for method, path, kwargs in WRITES:
        assert_error(await getattr(client, method)(path, **kwargs), 401, "unauthorized")
        bad = {"authorization": "Bearer si_not-a-key"}
        assert_error(await getattr(client, method)(path, headers=bad, **kwargs), 401, "unauthorized")
        read_only = {"x-api-key": read_key}
        assert_error(await getattr(client, method)(path, headers=read_only, **kwargs), 403, "forbidden")
    assert counts(client) == before  # nothing changed
    assert_error(await client.get("/v1/datasets"), 401, "unauthorized")
    assert (await client.get("/v1/datasets", headers={"x-api-key": read_key})).status_code == 200
    assert (await client.get("/healthz")).status_code == 200  # probes stay open
    writer = {"authorization": f"Bearer {write_key}"}
    assert (await client.post("/v1/datasets", json={"name": "other"}, headers=writer)).status_code == 201
    assert_error(await client.delete("/v1/datasets/other", headers=writer), 403, "forbidden", "admin")
    admin = {"authorization": f"Bearer {admin_key}"}
    assert (await client.delete("/v1/datasets/other", headers=admin)).status_code == 204
    with Session(client.app_state.engine) as session:
        auth.revoke_key(session, reader.id)
    assert_error(await client.get("/v1/datasets", headers={"x-api-key": read_key}), 401, "unauthorized")
    for key in (read_key, write_key, admin_key):
        assert key not in caplog.text


def test_cli_creates_lists_and_revokes_keys(tmp_path):
    url = f"sqlite:///{tmp_path}/keys.db"
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "ci", "--scope", "write", "--database-url", url])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().rsplit(" ", 1)[1]
    assert key.startswith("si_")
    listed = runner.invoke(cli, ["keys", "list", "--database-url", url])
    assert "ci\twrite" in listed.stdout and key not in listed.stdout and "active" in listed.stdout
    revoked = runner.invoke(cli, ["keys", "revoke", "1", "--database-url", url])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert "active" not in runner.invoke(cli, ["keys", "list", "--database-url", url]).stdout
    assert runner.invoke(cli, ["keys", "revoke", "9", "--database-url", url]).exit_code == 2
