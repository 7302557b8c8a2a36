"""What an OpenAI-compatible server says about itself: whether it is vLLM (its extensions may be sent),
and whether it is reachable and serves the configured model (for ``/readyz``). Short timeouts; never
raises."""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class ServerProbe:
    def __init__(self, base_url: str, model: str, api_key: str = "EMPTY", timeout_s: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"}

    @property
    def root_url(self) -> str:
        """The server's root (vLLM's ``/version`` lives there, not under ``/v1``)."""
        return self.base_url.removesuffix("/v1")

    def _get(self, url: str) -> httpx.Response:
        return httpx.get(url, headers=self._headers, timeout=self.timeout_s)

    def is_vllm(self) -> bool:
        """vLLM answers ``GET /version`` and lists its models ``owned_by: "vllm"``."""
        try:
            version = self._get(f"{self.root_url}/version")
            if version.status_code == 200 and "version" in version.json():
                return True
            models = self._get(f"{self.base_url}/models")
            return models.status_code == 200 and any(
                m.get("owned_by") == "vllm" for m in models.json().get("data", [])
            )
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            logger.info("model server at %s: could not tell whether it is vLLM (%s)", self.base_url, exc)
            return False

    def problem(self) -> str | None:
        """What is wrong with the server for this service, or None when it serves the configured model."""
        try:
            response = self._get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            return f"model server {self.base_url} unreachable: {type(exc).__name__}: {exc}"
        if response.status_code != 200:
            answer = f"{response.status_code} {response.text[:300]}"
            return f"model server {self.base_url} answered GET /models with {answer}"
        try:
            served = [str(m.get("id")) for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            return f"model server {self.base_url} answered GET /models with no model list"
        if self.model not in served:
            listed = ", ".join(served[:10]) or "none"
            return f"model server {self.base_url} does not serve model {self.model!r} (it serves: {listed})"
        return None
