"""``selfinstruct templates`` and ``generate --strategy`` on the fake backend."""

from __future__ import annotations

import json

from tests.app.cli.test_commands import db_url, invoke  # noqa: F401  (the fixture)


def test_templates_add_list_and_a_template_job_from_the_cli(db_url):  # noqa: F811
    first = invoke(
        "generate", "--dataset", "default", "--target", "1", "--backend", "fake", "--database-url", db_url
    )
    assert first.exit_code == 0, first.output  # (creates the default dataset)
    added = invoke(
        "templates",
        "add",
        "--dataset",
        "default",
        "--name",
        "cities",
        "--text",
        "Describe the history of {city}.",
        "--slot",
        "city=Lisbon|Kyoto|Nairobi",
        "--database-url",
        db_url,
    )
    assert added.exit_code == 0, added.output
    listed = invoke("templates", "list", "--dataset", "default", "--database-url", db_url)
    assert json.loads(listed.output.splitlines()[0])["slots"] == {"city": ["Lisbon", "Kyoto", "Nairobi"]}
    bad = invoke(
        "templates",
        "add",
        "--dataset",
        "default",
        "--name",
        "x",
        "--text",
        "Say {a}.",
        "--slot",
        "a=",
        "--database-url",
        db_url,
    )
    assert bad.exit_code != 0 and "empty value list" in bad.output
    result = invoke(
        "generate",
        "--dataset",
        "default",
        "--target",
        "3",
        "--backend",
        "fake",
        "--strategy",
        "template",
        "--database-url",
        db_url,
    )
    assert result.exit_code == 0, result.output
    refused = invoke(
        "generate",
        "--dataset",
        "default",
        "--target",
        "3",
        "--backend",
        "fake",
        "--strategy",
        "evol",
        "--strategy-settings",
        '{"operations": ["shrink"]}',
        "--database-url",
        db_url,
    )
    assert refused.exit_code != 0 and "unknown operation 'shrink'" in refused.output
