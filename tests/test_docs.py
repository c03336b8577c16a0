"""Generated docs stay in step with the code; the docs a newcomer follows point at files that exist."""

from __future__ import annotations

import re
from pathlib import Path

from compiler import cli_doc

REPO = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current() -> None:
    doc = (REPO / "docs" / "CLI.md").read_text()
    assert doc == cli_doc.render(), "regenerate: python -m compiler.cli_doc > docs/CLI.md"


def test_cli_reference_covers_every_command_and_option() -> None:
    from compiler.cli import _parser

    text = cli_doc.render()
    for name, (sub, _help) in cli_doc._subcommands(_parser()).items():
        assert f"## edgec {name}" in text
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in text, (name, option)


def test_relative_links_in_readme_and_docs_resolve() -> None:
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
