"""All configuration in one place, read from ``SI_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from filters.exact_vectors import DEFAULT_CODEC, VectorCodec
from filters.stages import STAGES
from filters.stages.base import (
    DEFAULT_EMBEDDING_THRESHOLD,
    DEFAULT_JUDGE_THRESHOLD,
    DEFAULT_RELEVANCE_THRESHOLD,
    DEFAULT_ROUGE_THRESHOLD,
    DEFAULT_STAGE_ORDER,
)
from generators.backends import OpenAIOptions

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SI_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./selfinstruct.db"
    backend: Literal["transformers", "openai", "vllm", "fake"] = "transformers"
    model_path: str | None = Field(None, description="model dir or .gguf; default SmolLM2-135M")
    device: str | None = None
    model_cache_dir: Path | None = Field(
        Path.home() / ".cache" / "selfinstruct" / "models",
        description="a .gguf model de-quantised once, loaded from here at the next start; unset (empty) "
        "to de-quantise at every load",
    )
    openai_base_url: str | None = Field(None, description="e.g. http://vllm:8000/v1")
    openai_base_urls: str | None = Field(
        None,
        description="several servers of the same model: comma-separated base URLs (instead of "
        "SI_OPENAI_BASE_URL); each gets SI_MAX_IN_FLIGHT and its own breaker",
    )
    openai_model: str | None = Field(None, description="model name the server serves")
    openai_api_key: str = "EMPTY"
    openai_endpoint: Literal["chat", "completions"] = "chat"
    openai_timeout_s: float = Field(120.0, gt=0)
    openai_max_retries: int = Field(3, ge=0, le=20)
    openai_extensions: Literal["auto", "vllm", "none"] = Field(
        "auto",
        description="server-specific request fields: auto = vLLM's when the server says it is vLLM",
    )
    request_sizing: Literal["yield", "fixed"] = Field(
        "yield",
        description="a job's requests in flight: yield = sized from the remaining target and the measured "
        "yield (at most SI_MAX_IN_FLIGHT); fixed = always SI_MAX_IN_FLIGHT",
    )
    embedding_model_path: str | None = Field(None, description="default: bundled MiniLM-L6-v2")
    vllm_engine_args: dict[str, Any] = Field(
        default_factory=dict, description="JSON object of extra vllm.AsyncEngineArgs, e.g. max_model_len"
    )
    max_in_flight: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="backend requests in flight at once; default 1 for transformers, else 32",
    )
    breaker_failures: int = Field(
        5, ge=1, le=1000, description="consecutive failed requests that open the circuit"
    )
    breaker_cooldown_s: float = Field(30.0, gt=0, description="open circuit: seconds before a trial request")
    max_queued_jobs: int = Field(100, ge=1, le=100000, description="queued jobs before new ones get 429")
    prompt_price_per_mtok: float | None = Field(None, ge=0, description="cost of a million prompt tokens")
    completion_price_per_mtok: float | None = Field(
        None, ge=0, description="cost of a million completion tokens"
    )

    seed_dir: Path = PROJECT_ROOT / "seed_tasks"
    default_dataset: str | None = "default"
    default_seed_file: str = "en_seed_tasks.jsonl"

    rouge_threshold: float = Field(DEFAULT_ROUGE_THRESHOLD, ge=0.0, le=1.0)
    embedding_threshold: float = Field(DEFAULT_EMBEDDING_THRESHOLD, ge=0.0, le=1.0)
    filter_chain: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_STAGE_ORDER, description="decision stages in order, e.g. heuristics,exact,rouge,embedding"
    )
    heuristics_preset: str = "self_instruct"
    relevance_threshold: float = Field(
        DEFAULT_RELEVANCE_THRESHOLD,
        ge=-1.0,
        le=1.0,
        description="datasets with a domain that set no threshold: reject a candidate less relevant",
    )
    judge: bool = Field(False, description="score generated tasks and instances with the LLM judge")
    judge_threshold: float = Field(
        DEFAULT_JUDGE_THRESHOLD, ge=1.0, le=5.0, description="datasets that set none: reject below it"
    )
    judge_backend: Literal["", "transformers", "openai", "vllm", "fake"] = Field(
        "", description="empty: the generator's backend, model and dispatcher"
    )
    judge_model: str | None = Field(
        None, description="its own judge backend: model path (transformers, vllm) or served name (openai)"
    )
    judge_base_url: str | None = Field(None, description="judge backend openai: the server's base URL")
    judge_max_tokens: int = Field(96, ge=8, le=4096)
    judge_logprobs: int = Field(
        5, ge=0, le=20, description="top alternatives per token for the expected score; 0: sampled only"
    )
    judge_timeout_s: float = Field(300.0, gt=0, description="a judge request waited for this long at most")

    samples_per_prompt: int = Field(2, ge=1, le=64)
    max_new_tokens: int = Field(256, ge=8, le=8192)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_requests_per_accepted: int = Field(20, ge=1)
    instances_per_task: int = Field(5, ge=1, le=20, description="instances asked per task (CLI default)")
    instance_max_new_tokens: int = Field(320, ge=16, le=8192)
    max_import_bytes: int = Field(50_000_000, ge=1, description="largest file POST …/imports accepts")
    instance_temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy, as Self-Instruct")

    index_dir: Path | None = Field(None, description="saved FAISS indexes; default: beside the SQLite file")
    vector_codec: VectorCodec = Field(
        DEFAULT_CODEC,
        description="pool vectors in memory: fp16 codes re-scored exactly from float32 on disk, or float32",
    )
    warm_pools: bool = Field(True, description="build every dataset's pool at start; false: at first use")
    pool_idle_s: float = Field(0.0, ge=0, description="drop a pool unused this long (0: keep it)")
    pool_budget_items: int = Field(
        0, ge=0, description="most pool items a process keeps; least recently used pools go first (0: no cap)"
    )
    torch_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="intra-op threads per torch call; parallelism comes from concurrent calls",
    )
    onnx_cache_dir: Path | None = Field(
        Path.home() / ".cache" / "selfinstruct" / "onnx",
        description="exported text encoder for ONNX Runtime on CPU; unset (empty) to run torch",
    )
    embedding_cache_items: int = Field(
        20_000,
        ge=0,
        le=10_000_000,
        description="vectors kept by their token ids, so a repeated text is not embedded again "
        "(ONNX Runtime; ~1.7 KB each; 0: off)",
    )
    fast_query_embeddings: bool = Field(True, description="bf16/fp16 autocast for search queries only")
    similar_workers: int = Field(2, ge=1, le=64, description="similarity batches embedded at once")
    similar_max_batch: int = Field(8, ge=1, le=4096, description="queries embedded per model call")
    workers: int = Field(1, ge=0, le=64)
    worker_poll_s: float = Field(1.0, gt=0)
    job_lease_s: float = Field(
        30.0, gt=0, description="a job whose worker stops renewing its lease this long is taken over"
    )
    job_heartbeat_s: float = Field(5.0, gt=0, description="how often a worker renews its leases")
    scheduler: bool = Field(True, description="run the schedule loop where job workers run")
    scheduler_poll_s: float = Field(5.0, gt=0, description="how often due schedules are looked for")
    events_poll_s: float = Field(0.5, gt=0, description="how often a job event stream reads the job")
    loop_backoff_s: float = Field(0.5, gt=0, description="first pause of a loop after a failed pass")
    loop_backoff_max_s: float = Field(30.0, gt=0, description="the longest pause between failed passes")
    loop_unready_after: int = Field(
        5, ge=1, le=10000, description="failed passes in a row of one loop before /readyz answers 503"
    )
    job_retries_on_database_error: int = Field(
        10, ge=0, le=1000, description="times a job is resumed after losing the database before it fails"
    )
    max_body_bytes: int = Field(
        10_000_000, ge=1024, description="largest request body of a write (imports: SI_MAX_IMPORT_BYTES)"
    )
    max_text_chars: int = Field(
        20_000, ge=16, le=10_000_000, description="longest string in a request body or query parameter"
    )
    max_json_depth: int = Field(32, ge=4, le=1000, description="deepest nesting of a JSON request body")
    candidates_max_running: int = Field(4, ge=1, le=1024, description="/candidates requests run at once")
    similar_max_running: int = Field(32, ge=1, le=4096, description="/similar requests run at once")
    job_posts_max_running: int = Field(4, ge=1, le=1024, description="job submissions handled at once")
    admission_max_waiting: int = Field(
        64, ge=0, le=100_000, description="requests of one kind waiting for a slot before 429"
    )
    admission_wait_s: float = Field(10.0, gt=0, description="longest wait for a slot before 503")
    require_api_keys: bool = Field(
        False, description="API keys on /v1 even before one exists (otherwise on once one is created)"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object a line, with the request id and the job id"
    )
    shutdown_grace_s: float = Field(
        3.0,
        gt=0,
        le=300,
        description="at SIGINT/SIGTERM: how long open streams, running jobs and backend requests get "
        "to end before the process exits",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("SI_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    def resolved_index_dir(self) -> Path | None:
        """Where large FAISS indexes are saved so a restart loads instead of rebuilding them."""
        if self.index_dir is not None:
            return self.index_dir
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            db = Path(self.database_url[len(prefix) :])
            return db.parent / f"{db.stem}-indexes"
        return Path("indexes") if not self.database_url.startswith("sqlite") else None

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.job_heartbeat_s * 2 > self.job_lease_s:
            raise ValueError("SI_JOB_HEARTBEAT_S must be at most half of SI_JOB_LEASE_S")
        return self

    @model_validator(mode="after")
    def _openai_needs_server(self) -> Settings:
        if self.backend == "openai" and not (self.openai_servers() and self.openai_model):
            raise ValueError(
                "SI_BACKEND=openai needs SI_OPENAI_BASE_URL (or SI_OPENAI_BASE_URLS) and SI_OPENAI_MODEL"
            )
        if self.judge_backend == "openai" and not (self.judge_base_url and self.judge_model):
            raise ValueError("SI_JUDGE_BACKEND=openai needs SI_JUDGE_BASE_URL and SI_JUDGE_MODEL")
        if self.backend == "vllm" and not self.model_path:
            raise ValueError("SI_BACKEND=vllm needs SI_MODEL_PATH (a Hugging Face model id or local folder)")
        return self

    def resolved_max_in_flight(self, backend: str | None = None) -> int:
        """Requests in flight to ``backend`` (default: the generator's): ``SI_MAX_IN_FLIGHT`` for the
        generator, else one for the CPU model (one request at a time) and 32 for a server (it batches)."""
        if backend is None and self.max_in_flight is not None:
            return self.max_in_flight
        return 1 if (backend or self.backend) == "transformers" else 32

    def openai_servers(self) -> list[str]:
        """The model servers' base URLs: ``SI_OPENAI_BASE_URLS`` split on commas, else the one URL."""
        if self.openai_base_urls:
            return [url.strip() for url in self.openai_base_urls.split(",") if url.strip()]
        return [self.openai_base_url] if self.openai_base_url else []

    def openai_options(self) -> OpenAIOptions | None:
        """The generator's OpenAI-compatible server (the first of ``SI_OPENAI_BASE_URLS``)."""
        servers = self.openai_servers()
        return self._openai_options(servers[0] if servers else None, self.openai_model, self.openai_endpoint)

    def judge_openai_options(self) -> OpenAIOptions | None:
        """The judge's own OpenAI-compatible server (``SI_JUDGE_BASE_URL``, chat endpoint)."""
        return self._openai_options(self.judge_base_url, self.judge_model, "chat")

    def _openai_options(
        self, base_url: str | None, model: str | None, endpoint: Literal["chat", "completions"]
    ) -> OpenAIOptions | None:
        if not (base_url and model):
            return None  # only an openai backend needs them, and it is validated to have them
        return {
            "base_url": base_url,
            "model": model,
            "api_key": self.openai_api_key,
            "endpoint": endpoint,
            "timeout_s": self.openai_timeout_s,
            "max_retries": self.openai_max_retries,
            "extensions": self.openai_extensions,
        }

    @field_validator("onnx_cache_dir", "model_cache_dir", "index_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("filter_chain", mode="before")
    @classmethod
    def _stage_list(cls, value: object) -> object:
        return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value

    @field_validator("filter_chain")
    @classmethod
    def _known_stages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in STAGES]
        if unknown or not value or len(set(value)) != len(value):
            raise ValueError(
                f"SI_FILTER_CHAIN must list distinct stages of {', '.join(STAGES)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        return value

    @field_validator("heuristics_preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        from filters.heuristics import PRESETS

        if value not in PRESETS:
            raise ValueError(f"SI_HEURISTICS_PRESET must be one of {', '.join(PRESETS)}")
        return value
