"""The Python API: every documented example runs and prints what its docstring says."""

from __future__ import annotations

import doctest
import os
import shutil
from pathlib import Path

import pytest

import compiler
from compiler import api

REPO = Path(__file__).resolve().parent.parent
needs_qemu = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make")),
    reason="Arm toolchain or QEMU not installed (bash toolchains/install.sh)",
)


@pytest.fixture
def at_repo_top():
    before = os.getcwd()
    os.chdir(REPO)
    yield
    os.chdir(before)


def _examples() -> list[doctest.DocTest]:
    return [t for t in doctest.DocTestFinder().find(api) if t.examples]


def test_every_public_function_has_an_example() -> None:
    documented = {t.name.rsplit(".", 1)[-1] for t in _examples()}
    assert {"compile", "run", "inspect", "load_report", "list_targets"} <= documented


@needs_qemu
@pytest.mark.parametrize("test", _examples(), ids=lambda t: t.name)
def test_docstring_example_runs(test: doctest.DocTest, at_repo_top) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 0, f"example of {test.name} failed (see the output above)"


@needs_qemu
def test_docs_api_examples_run(at_repo_top) -> None:
    result = doctest.testfile(str(REPO / "docs" / "API.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_package_reexports_the_api() -> None:
    assert compiler.run is api.run and compiler.inspect is api.inspect and compiler.compile is api.compile
    with pytest.raises(AttributeError):
        compiler.no_such_thing  # noqa: B018
