from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import Settings


def make(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_in_flight_default_depends_on_the_backend():
    assert make(backend="transformers").resolved_max_in_flight() == 1
    assert make(backend="fake").resolved_max_in_flight() == 32
    assert make(backend="fake", max_in_flight=5).resolved_max_in_flight() == 5


def test_vllm_needs_a_model_and_takes_engine_args_as_json(monkeypatch):
    with pytest.raises(ValidationError, match="SI_MODEL_PATH"):
        make(backend="vllm")
    monkeypatch.setenv("SI_VLLM_ENGINE_ARGS", '{"max_model_len": 4096}')
    settings = make(backend="vllm", model_path="org/model")
    assert settings.vllm_engine_args == {"max_model_len": 4096}


@pytest.mark.parametrize(
    "field, value",
    [("max_in_flight", 0), ("max_queued_jobs", 0), ("breaker_failures", 0), ("prompt_price_per_mtok", -1)],
)
def test_nonsense_limits_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        make(**{field: value})


def test_an_empty_cache_folder_variable_switches_the_cache_off(monkeypatch):
    monkeypatch.setenv("SI_MODEL_CACHE_DIR", "")
    monkeypatch.setenv("SI_ONNX_CACHE_DIR", " ")
    settings = make()
    assert settings.model_cache_dir is None and settings.onnx_cache_dir is None
    assert make(model_cache_dir="/tmp/models").model_cache_dir == Path("/tmp/models")
