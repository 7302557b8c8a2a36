"""The CLI's settings and services (app/cli/runtime.py)."""

from __future__ import annotations

from app.cli.runtime import batch_settings, command_services, command_settings


def test_batch_commands_use_every_core_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("SI_TORCH_THREADS", raising=False)
    monkeypatch.setattr("app.cli.runtime.os.cpu_count", lambda: 6)
    assert command_settings(None).torch_threads == 1  # the service: one thread per call
    assert batch_settings("sqlite:///x.db").torch_threads == 6
    assert batch_settings("sqlite:///x.db").database_url == "sqlite:///x.db"
    monkeypatch.setenv("SI_TORCH_THREADS", "3")
    assert batch_settings(None).torch_threads == 3


def test_a_command_gets_only_the_services_it_asks_for(tmp_path):
    settings = command_settings(f"sqlite:///{tmp_path}/x.db", backend="fake")
    with command_services(settings, pools=False) as services:
        assert (services.pools, services.backend, services.jobs) == (None, None, None)
    with command_services(settings, pools=False, model=True) as services:
        assert services.pools is None and services.jobs is None
        assert services.backend.dispatcher.backend is services.backend.backend


def test_a_bad_setting_is_an_error_message_not_a_traceback(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from app.cli import app

    monkeypatch.setenv("SI_FILTER_CHAIN", "heuristics,bleu")
    result = CliRunner().invoke(
        app, ["search", "hello", "-d", "default", "--database-url", f"sqlite:///{tmp_path}/x.db"]
    )
    assert result.exit_code == 2
    assert "invalid settings: filter_chain" in result.output and "bleu" in result.output
    assert "Traceback" not in result.output
