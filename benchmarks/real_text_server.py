"""An instant fake OpenAI-compatible server whose numbered lists are real texts and near-duplicates.

Of each completion's items about 60% are corpus texts not sent before, 25% an earlier item with one word
dropped, swapped or replaced, 15% an earlier item repeated with its case changed
(``benchmarks/acceptor_ceiling.py`` drives the service against it).
"""

from __future__ import annotations

import random
import threading

from tests.support.fake_openai_server import FakeOpenAIServer


class RealTextServer(FakeOpenAIServer):
    """An instant fake server whose list items are real texts and near-duplicates of earlier ones."""

    def __init__(self, corpus: list[str], seed: int = 0, **kwargs: object) -> None:
        super().__init__(capacity=1000, **kwargs)  # type: ignore[arg-type]
        self.corpus = corpus
        self.rng = random.Random(seed)
        self.next_fresh = 0
        self.sent: list[str] = []
        self.text_lock = threading.Lock()

    def _item(self) -> str:
        roll = self.rng.random()
        if self.sent and roll < 0.15:
            text = self.rng.choice(self.sent)
            return text.lower() if text[0].isupper() else text.capitalize()
        if self.sent and roll < 0.40:
            words = self.rng.choice(self.sent).split()
            i = self.rng.randrange(len(words))
            kind = self.rng.randrange(3)
            if kind == 0 and len(words) > 4:
                del words[i]
            elif kind == 1 and i + 1 < len(words):
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                words[i] = self.rng.choice(self.rng.choice(self.corpus).split())
            return " ".join(words)
        text = self.corpus[self.next_fresh % len(self.corpus)]
        self.next_fresh += 1
        self.sent.append(text)
        return text

    def _text(self, behaviour: str, body: dict, first: int, index: int, max_tokens: int) -> tuple[str, str]:
        with self.text_lock:
            items = [self._item() for _ in range(self.items_per_completion)]
        lines = [items[0]] + [f"{first + k}. {item}" for k, item in enumerate(items[1:], start=1)]
        return " " + "\n".join(lines), "stop"
