from __future__ import annotations

import json
from pathlib import Path

import pytest
from rouge_score import rouge_scorer
from typer.testing import CliRunner

from app.cli import app
from tests.conftest import PROJECT_ROOT, shared_file

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def brute_force_decisions(instructions: list[str], threshold: float = 0.7) -> list[bool]:
    """The plain loop every Self-Instruct implementation runs: max ROUGE-L against all kept so far."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    kept: list[str] = []
    decisions = []
    for text in instructions:
        best = max((scorer.score(text, other)["rougeL"].fmeasure for other in kept), default=0.0)
        decisions.append(best <= threshold)
        if best <= threshold:
            kept.append(text)
    return decisions


def test_ingest_with_rouge_filter_matches_the_brute_force_loop(tmp_path, db_url):
    source = shared_file("self_instruct_user_oriented.jsonl")
    out = tmp_path / "decisions.jsonl"
    result = invoke(
        "ingest",
        str(source),
        "--dataset",
        "uo",
        "--filters",
        "rouge",
        "--decisions-out",
        str(out),
        "--database-url",
        db_url,
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    texts = [
        json.loads(line)["instruction"].strip() for line in source.read_text().splitlines() if line.strip()
    ]
    assert [r["instruction"] for r in rows] == texts
    expected = brute_force_decisions(texts)
    assert [r["accepted"] for r in rows] == expected
    assert not all(expected), "the file must contain near-duplicates for this test to mean anything"
    for row in rows:
        assert row["rule"] == (None if row["accepted"] else "rouge_l")
        assert row["max_rouge_l"] is None or isinstance(row["max_rouge_l"], float)
    assert f"{len(texts)} instructions: {sum(expected)} accepted" in result.output


def test_an_ingest_without_a_vector_stage_embeds_nothing_and_the_next_pool_embeds_its_rows(
    tmp_path, db_url, embedder
):
    source = tmp_path / "in.jsonl"
    texts = ["Name three rivers of Africa.", "Explain how a rainbow forms.", "Write a haiku about snow."]
    source.write_text("".join(json.dumps({"instruction": t}) + "\n" for t in texts))
    result = invoke(
        "ingest", str(source), "--dataset", "d", "--filters", "exact,rouge", "--database-url", db_url
    )
    assert result.exit_code == 0, result.output

    from sqlmodel import Session, select

    from app.core.db import make_engine
    from app.models import Dataset, Instruction
    from app.pipeline.pools import PoolRegistry

    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = session.exec(select(Instruction).where(Instruction.origin == "ingested")).all()
        assert len(rows) == 3 and all(r.embedding is None for r in rows)
        dataset = session.exec(select(Dataset).where(Dataset.name == "d")).one()
    pool = PoolRegistry(engine, embedder, None).get(dataset)  # as serve or a worker loads it
    assert pool.novelty.vectors is not None and len(pool.novelty.vectors) == len(pool.novelty)
    with Session(engine) as session:
        rows = session.exec(select(Instruction).where(Instruction.origin == "ingested")).all()
        assert all(r.embedding is not None for r in rows)  # embedded once, stored
    engine.dispose()


def test_ingest_alpaca_array_with_seeds_and_all_filters(tmp_path, db_url):
    alpaca = tmp_path / "alpaca.json"
    alpaca.write_text(
        json.dumps(
            [
                {
                    "instruction": "Give three tips for keeping a sourdough starter alive.",
                    "input": "",
                    "output": "...",
                },
                {
                    "instruction": "Give three tips for keeping a sourdough starter alive!",
                    "input": "",
                    "output": "...",
                },
                {"instruction": "Plot a graph", "input": "", "output": "..."},
            ]
        )
    )
    out = tmp_path / "d.jsonl"
    seeds = PROJECT_ROOT / "seed_tasks" / "en_seed_tasks.jsonl"
    result = invoke(
        "ingest",
        str(alpaca),
        "-d",
        "bread",
        "--seeds",
        str(seeds),
        "--decisions-out",
        str(out),
        "--database-url",
        db_url,
    )
    assert result.exit_code == 0, result.output
    reasons = [json.loads(line)["rule"] for line in out.read_text().splitlines()]
    assert reasons == [None, "rouge_l", "too_short"]
    search = invoke("search", "sourdough starter care", "-d", "bread", "-k", "2", "--database-url", db_url)
    assert search.exit_code == 0, search.output
    top = [line for line in search.stdout.splitlines() if "\t" in line][0].split("\t")
    assert top[3] == "Give three tips for keeping a sourdough starter alive." and top[2] == "ingested"
    again = invoke("ingest", str(alpaca), "-d", "bread", "--seeds", str(seeds), "--database-url", db_url)
    assert again.exit_code == 2 and "--seeds only applies to a new dataset" in again.output


def test_ingest_bad_input_fails_with_file_and_line(tmp_path, db_url):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "Fine row here please."}\n{"instructions": "typo"}\n')
    result = runner.invoke(app, ["ingest", str(bad), "-d", "x", "--database-url", db_url])
    assert result.exit_code == 2
    assert f"{bad}:2: missing string field 'instruction'" in result.output
    unknown = runner.invoke(
        app, ["ingest", str(bad), "-d", "x", "--filters", "rouge,magic", "--database-url", db_url]
    )
    assert unknown.exit_code == 2 and "unknown filter(s) magic" in unknown.output
    missing = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.jsonl"), "-d", "x", "--database-url", db_url]
    )
    assert missing.exit_code == 2 and "file not found" in missing.output
    assert (
        not (tmp_path / "cli.db").exists()
        or "x" not in invoke("search", "anything", "-d", "x", "--database-url", db_url).output
    )


def test_search_unknown_dataset_is_a_clear_error(db_url):
    result = runner.invoke(app, ["search", "hello", "-d", "missing", "--database-url", db_url])
    assert result.exit_code == 2 and "dataset 'missing' does not exist" in result.output


def test_generate_with_fake_backend_prints_a_summary(db_url):
    result = invoke(
        "generate", "--dataset", "default", "--target", "5", "--backend", "fake", "--database-url", db_url
    )
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "5 accepted of" in result.output


def test_seeds_check_and_add(tmp_path, db_url):
    seeds = PROJECT_ROOT / "seed_tasks" / "zh_seed_tasks.jsonl"
    check = invoke("seeds", "check", str(seeds))
    assert check.exit_code == 0 and check.output.startswith("41 tasks")
    added = invoke("seeds", "add", str(seeds), "-d", "zh", "--create", "--database-url", db_url)
    assert added.exit_code == 0 and "added 41 seed tasks to zh" in added.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "x", "instances": [{"input": "", "output": ""}]}\n')
    result = runner.invoke(app, ["seeds", "check", str(bad)])
    assert result.exit_code == 2 and f"{bad}:1: instances[0].output is empty" in result.output


def test_instances_snapshot_export_and_import_commands(tmp_path, db_url):
    common = ("--dataset", "default", "--database-url", db_url)
    generated = invoke("generate", *common, "--target", "4", "--instances", "3", "--backend", "fake")
    assert generated.exit_code == 0, generated.output
    assert "instances:" in generated.output and "classification:" in generated.output
    nothing = invoke("instances", *common, "--backend", "fake")
    assert nothing.exit_code == 0 and "no accepted task of default is waiting" in nothing.output

    snap = invoke("snapshot", *common, "--note", "first")
    assert snap.exit_code == 0, snap.output
    count = int(snap.output.split(": ")[1].split()[0])
    assert snap.output.startswith("snapshot 1 of default") and count > 0

    out = tmp_path / "train.parquet"
    exported = invoke("export", *common, "-f", "parquet", "-o", str(out), "--snapshot", "1")
    assert exported.exit_code == 0, exported.output
    import datasets

    table = datasets.load_dataset(
        "parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "c")
    )
    assert table.num_rows == count and f"{count} rows written" in exported.output

    bad_format = invoke("export", *common, "-f", "csv", "-o", str(tmp_path / "x.csv"))
    assert bad_format.exit_code == 2 and "unknown format 'csv'" in bad_format.output
    assert not list(tmp_path.glob("x.csv*"))  # nothing half-written
    missing = invoke("export", *common, "-f", "alpaca", "-o", str(tmp_path / "y.json"), "--snapshot", "9")
    assert missing.exit_code == 2 and "no snapshot 9" in missing.output

    bad = tmp_path / "bad.json"
    bad.write_text(
        '[\n  {"instruction": "Name a fruit.", "output": "Apple"},\n  {"instruction": "Name"}\n]\n'
    )
    before = invoke("snapshot", *common).output
    failed = invoke("import", str(bad), *common, "-f", "alpaca")
    assert failed.exit_code == 2 and f"{bad}:3: item 1: missing string field 'output'" in failed.output
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps([{"instruction": "Name a fruit that is yellow.", "input": "", "output": "Banana"}])
    )
    added = invoke("import", str(good), *common, "-f", "alpaca", "--as", "seeds")
    assert added.exit_code == 0 and "added 1 seed tasks to default" in added.output
    wrong_mode = invoke("import", str(good), *common, "-f", "alpaca", "--as", "gold")
    assert wrong_mode.exit_code == 2 and "unknown import mode 'gold'" in wrong_mode.output
    assert (
        before.split(": ")[1] == invoke("snapshot", *common).output.split(": ")[1]
    )  # the bad file stored nothing


def test_the_instances_command_calls_the_model_through_the_dispatcher(db_url, monkeypatch):
    """Like jobs, ``instances`` goes through the process's dispatcher (in-flight limit, circuit breaker)."""
    from generators.backends.dispatch import RequestDispatcher

    common = ("--dataset", "default", "--database-url", db_url)
    assert invoke("generate", *common, "--target", "3", "--backend", "fake").exit_code == 0
    submitted, results = [], []
    submit = RequestDispatcher.submit

    def counted(self, prompt, params):  # type: ignore[no-untyped-def]
        submitted.append(params)
        future = submit(self, prompt, params)
        results.append((self, future))
        return future

    monkeypatch.setattr(RequestDispatcher, "submit", counted)
    result = invoke("instances", *common, "-k", "2", "--backend", "fake")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 tasks in") and "instances:" in result.stdout
    assert len(submitted) == 6  # per task: classification, then its instances
    [dispatcher] = {id(d): d for d, _ in results}.values()  # one dispatcher for the whole command
    assert all(f.done() and f.exception() is None for _, f in results)
    assert dispatcher.breaker.state == "closed" and dispatcher.in_flight == 0
