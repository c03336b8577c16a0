"""The package: a wheel that carries its runtime, targets and templates, and docs generated from code."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compiler import supported_ops

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_is_self_contained(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
                   check=True, timeout=600)
    wheel = next(tmp_path.glob("edgec-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("compiler/_data/runtime_c/include/edgec_nn.h", "compiler/_data/targets/mps2-an386.toml",
                     "compiler/codegen/templates/model.c.j2", "compiler/cli.py",
                     "compiler/codegen/templates/firmware/main.c.j2", "compiler/codegen/templates/library.cmake.j2",
                     "compiler/_data/targets/templates/riscv_startup.c.j2", "compiler/_data/targets/rpi-pico.toml"):
        assert required in names, f"{required} missing from {wheel.name}"
    sources = {n for n in names if n.startswith("compiler/_data/runtime_c/src/") and n.endswith(".c")}
    in_tree = {str(p.relative_to(REPO / "runtime_c" / "src")) for p in (REPO / "runtime_c" / "src").rglob("*.c")}
    assert {s.removeprefix("compiler/_data/runtime_c/src/") for s in sources} == in_tree
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "edgec = compiler.cli:main" in entry


def test_supported_ops_doc_is_current() -> None:
    doc = (REPO / "docs" / "SUPPORTED_OPS.md").read_text()
    assert doc == supported_ops.render(), "regenerate: python -m compiler.supported_ops > docs/SUPPORTED_OPS.md"
