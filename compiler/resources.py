"""Where the data files that ship with edgec live: the C runtime, target descriptions, templates.

In an installed wheel they sit under ``compiler/_data/`` (see pyproject.toml); in a source
checkout (editable install or tests run from the tree) they are the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"edgec is installed without its {name}/ folder (looked in {installed} and {checkout})")


def runtime_dir() -> Path:
    """The C kernel library: ``include/`` and ``src/``."""
    return _data_dir("runtime_c")


def targets_dir() -> Path:
    """Target descriptions (one TOML file per machine) and the start-up/linker templates."""
    return _data_dir("targets")


def templates_dir() -> Path:
    """Jinja templates for generated sources."""
    return _PACKAGE / "codegen" / "templates"
