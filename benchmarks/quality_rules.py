"""How often each quality rule rejects human-written tasks, and how much real junk it catches.

For every seed file in seed_tasks/ and ../shared/data (when present), the share of its distinct
instructions each quality-rule stage rejects (the target is at most 1%), then, on the labelled
candidates from a real generation ledger (tests/filters/data/ledger_candidates.jsonl, the default CPU
model), the share of junk each stage catches and the share of valid candidates it rejects.

    python benchmarks/quality_rules.py
"""

from __future__ import annotations

import json
from pathlib import Path

from filters.novelty_pool import NoveltyPool
from filters.stages import STAGES
from filters.stages.base import QUALITY_RULE_STAGES, ChainConfig, DecisionStage, StageInput

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = sorted((ROOT / "seed_tasks").glob("*.jsonl")) + sorted(
    (ROOT.parent / "shared" / "data").glob("*.jsonl")
)
LABELLED = ROOT / "tests" / "filters" / "data" / "ledger_candidates.jsonl"


def rejects(stage: DecisionStage, text: str, pool: NoveltyPool) -> bool:
    return stage.check(StageInput(text), pool).rejects


def main() -> None:
    pool = NoveltyPool(0.7, None)
    stages = [STAGES[stage_id].from_config(ChainConfig()) for stage_id in QUALITY_RULE_STAGES]
    print("false rejections on human-written seed tasks (distinct instructions)")
    print(f"{'file':40} {'n':>5} " + " ".join(f"{s.id:>18}" for s in stages) + f" {'any':>8}")
    for path in SEED_FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        texts = sorted({json.loads(line)["instruction"].strip() for line in lines if line.strip()})
        counts = [sum(rejects(s, t, pool) for t in texts) for s in stages]
        anyone = sum(any(rejects(s, t, pool) for s in stages) for t in texts)
        cells = " ".join(f"{c:>6} ({c / len(texts):6.2%})" for c in counts)
        print(f"{path.name:40} {len(texts):>5} {cells} {anyone / len(texts):8.2%}")
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line]
    junk = [r["text"] for r in rows if r["junk"]]
    valid = [r["text"] for r in rows if not r["junk"]]
    print(f"\nlabelled real candidates ({LABELLED.name}): {len(junk)} junk, {len(valid)} valid")
    for stage in stages:
        caught = sum(rejects(stage, t, pool) for t in junk)
        wrong = sum(rejects(stage, t, pool) for t in valid)
        print(
            f"{stage.id:18} junk caught {caught:>3}/{len(junk)} ({caught / len(junk):6.1%})   "
            f"valid rejected {wrong}/{len(valid)}"
        )
    caught = sum(any(rejects(s, t, pool) for s in stages) for t in junk)
    wrong = sum(any(rejects(s, t, pool) for s in stages) for t in valid)
    print(
        f"{'all four':18} junk caught {caught:>3}/{len(junk)} ({caught / len(junk):6.1%})   "
        f"valid rejected {wrong}/{len(valid)}"
    )


if __name__ == "__main__":
    main()
