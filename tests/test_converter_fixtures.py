"""Models written by TensorFlow's converter, compiled and run on the host and on QEMU Cortex-M4.

The fixtures (``tests/fixtures/converter/*.tflite``, made by ``make_fixtures.py`` there, listed in its
README) carry the patterns real Keras models convert to. Each must compile, and the firmware's
output must equal TFLite's reference interpreter's bit for bit, on the host under ASan+UBSan and on
mps2-an386.

Fixtures edgec cannot compile yet are listed by hand in :data:`EXPECTED_UNSUPPORTED` with the ops
that stop them. Their end-to-end tests are strict xfails that only accept an
``UnsupportedModelError``: once the ops land the test passes, strict turns the pass into a failure,
and the entry must go. :func:`test_expected_unsupported_table_is_exact` keeps each entry's list of
ops equal to what the support checks report, so the table cannot drift either way.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import assert_bit_identical, build_model

from compiler.errors import UnsupportedModelError
from compiler.frontend import read_tflite
from compiler.lower import check_support, supported_ops
from compiler.passes import optimize

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "converter"
ERROR_FIXTURE = "unsupported_topk"
FIXTURES = sorted(p.stem for p in FIXTURES_DIR.glob("*.tflite") if p.stem != ERROR_FIXTURE)

# Which fixtures main cannot compile yet, and the ops whose support checks stop them (issue 3).
# Hand-written on purpose: update it when an op lands (the strict xfail and the exactness test fail until then).
# The ops are those left after the graph passes (compiler.passes), as the compiler sees them: the dilated
# convolutions' SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND fold away, and so does the Flatten's shape arithmetic.
EXPECTED_UNSUPPORTED: dict[str, tuple[str, ...]] = {  # empty: every fixture compiles (issue 3)
}

_PROBLEM_OP = re.compile(r"^operator #\d+ (\w+) \(output ")


def _path(name: str) -> Path:
    return FIXTURES_DIR / f"{name}.tflite"


def _cases() -> list:
    cases = []
    for name in FIXTURES:
        marks = []
        if name in EXPECTED_UNSUPPORTED:
            ops = ", ".join(EXPECTED_UNSUPPORTED[name])
            marks.append(pytest.mark.xfail(strict=True, raises=UnsupportedModelError,
                                           reason=f"needs {ops} (issue 3, in progress)"))
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


def test_fixture_set_is_complete() -> None:
    """The fixture folder holds the models the README lists; none is missing or unlisted."""
    assert len(FIXTURES) == 13 and _path(ERROR_FIXTURE).is_file()
    assert set(EXPECTED_UNSUPPORTED) <= set(FIXTURES)


def test_readme_lists_the_emitted_ops() -> None:
    """Every README row names the fixture's operators in execution order and its size."""
    rows = {}
    for line in (FIXTURES_DIR / "README.md").read_text().splitlines():
        m = re.match(r"^\| `(\w+)\.tflite` \| (\d+) \| [^|]+ \| ([A-Z0-9_, ]+) \|$", line)
        if m:
            rows[m[1]] = (int(m[2]), [op.strip() for op in m[3].split(",")])
    assert sorted(rows) == sorted([*FIXTURES, ERROR_FIXTURE])
    for name, (size, ops) in rows.items():
        assert _path(name).stat().st_size == size, name
        assert [op.op for op in read_tflite(_path(name)).operators] == ops, name


def test_expected_unsupported_table_is_exact() -> None:
    """Each fixture's support problems (after the graph passes) name exactly the ops the table lists (none for the
    others)."""
    for name in FIXTURES:
        problems = check_support(optimize(read_tflite(_path(name))))
        ops = {m[1] for m in (_PROBLEM_OP.match(p) for p in problems) if m}
        assert all(_PROBLEM_OP.match(p) for p in problems), problems
        assert ops == set(EXPECTED_UNSUPPORTED.get(name, ())), f"{name}: support checks report {problems}"


@pytest.mark.parametrize("name", _cases())
def test_host_bit_identical(name: str, tmp_path: Path) -> None:
    model = _path(name)
    assert_bit_identical(model, build_model(model, "host", tmp_path, sanitize=True), range(3))


@pytest.mark.qemu
@pytest.mark.parametrize("name", _cases())
def test_cortex_m4_bit_identical(name: str, tmp_path: Path) -> None:
    model = _path(name)
    sims = assert_bit_identical(model, build_model(model, "mps2-an386", tmp_path), range(3))
    assert all(s.instructions is not None and s.instructions > 0 for s in sims)


def _error_fixture_output_name() -> str:
    graph = read_tflite(_path(ERROR_FIXTURE))
    (topk,) = [op for op in graph.operators if op.op == "TOPK_V2"]
    return graph.tensors[topk.outputs[0]].name


def test_unsupported_op_error_names_operator_and_supported_ops(tmp_path: Path) -> None:
    from compiler.driver import compile_model

    out = tmp_path / "project"
    with pytest.raises(UnsupportedModelError) as info:
        compile_model(_path(ERROR_FIXTURE), "mps2-an386", out)
    message = str(info.value)
    assert info.value.problems == [
        f"operator #1 TOPK_V2 (output {_error_fixture_output_name()!r}): op TOPK_V2 is not supported"]
    assert "operator #1 TOPK_V2" in message and _error_fixture_output_name() in message
    assert message.splitlines()[-1] == "supported ops: " + ", ".join(supported_ops())
    assert "FULLY_CONNECTED" in supported_ops() and "TOPK_V2" not in supported_ops()
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_reports_unsupported_op_without_traceback(tmp_path: Path) -> None:
    out = tmp_path / "project"
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(_path(ERROR_FIXTURE)), "-o", str(out)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == UnsupportedModelError.exit_code, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.stderr.startswith("edgec: error: the model uses what edgec cannot compile yet:")
    assert f"operator #1 TOPK_V2 (output {_error_fixture_output_name()!r})" in proc.stderr
    assert "supported ops: " + ", ".join(supported_ops()) in proc.stderr
    assert not out.exists()
