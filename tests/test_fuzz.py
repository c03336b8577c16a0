"""Bounded fuzzing for CI: malformed models compile or fail with a CompilerError, each within 10 s.

The mutations and the runner live in ``tests/fuzz_models.py`` (also a script for long runs:
``python tests/fuzz_models.py --cases 20000 --seed 1``). Each seed model gets its own batch of
deterministic cases; a failure lists every failing case with its description and traceback, and
``python tests/fuzz_models.py --seed 0 --first N --cases 1`` reruns case N alone.
Read, lower, plan and codegen only: nothing is built, and the reference interpreter (which aborts
the process on bad models) is never called.
"""

from __future__ import annotations

from collections import Counter

import fuzz_models
import pytest
from conftest import MODELS_DIR

SEED = 0
BUILDER_CASES = 40  # per builder seed model
MLPERF_CASES = 25  # per MLPerf Tiny model, when present
MIN_CASES = 300

COUNTS: Counter = Counter()
RAN: set[str] = set()

BUILDER = list(fuzz_models.BUILDER_SEEDS)
MLPERF = [f"mlperf:{m}" for m in fuzz_models.MLPERF_MODELS]


def _run(name: str, cases: int, models_dir: str | None) -> None:
    # Case numbers are disjoint per seed model so every case is reproducible from (seed model, number).
    offset = (BUILDER + MLPERF).index(name) * 100_000
    counts, failures = fuzz_models.fuzz(cases, SEED, models_dir, out=None, names=[name], first=offset,
                                        log=lambda _: None)
    COUNTS.update(counts)
    RAN.add(name)
    assert not failures, f"{len(failures)} of {cases} cases failed:\n\n" + "\n\n".join(failures)


@pytest.mark.parametrize("name", BUILDER)
def test_fuzz_builder_model(name: str) -> None:
    _run(name, BUILDER_CASES, None)


@pytest.mark.parametrize("name", MLPERF)
def test_fuzz_mlperf_model(name: str) -> None:
    if not (MODELS_DIR / f"{name[7:]}.tflite").exists():
        pytest.skip(f"MLPerf Tiny model {name[7:]} not present in {MODELS_DIR} (set EDGEC_MODELS_DIR)")
    _run(name, MLPERF_CASES, str(MODELS_DIR))


def test_fuzz_case_count() -> None:
    """Runs last: the builder batches alone must have run at least MIN_CASES cases."""
    if not set(BUILDER) <= RAN:
        pytest.skip("not every fuzz batch ran in this session (selection with -k, or a batch failed)")
    total = sum(COUNTS.values())
    print(f"\nfuzz: {total} cases: " + ", ".join(f"{k} {v}" for k, v in COUNTS.most_common()))
    assert total >= MIN_CASES
