"""Fuzz edgec with malformed models: every case must compile or fail with a CompilerError, within a time limit.

Seeds are the project's own builder models and, when present, the MLPerf Tiny models. Each case
mutates one seed, either as bytes (bit flips, byte overwrites, truncation, appended garbage,
random bytes, 4-byte little-endian words overwritten with large or negative values, which hits
flatbuffer offsets and lengths) or as a *valid* flatbuffer with absurd contents built through the
schema's object API (huge or negative shapes, bad scales and zero points, wrong per-channel
lengths, indices out of range, cycles, absurd options, ...). The case then runs read, lower, plan
and codegen (``compile_model(bytes, "host", dir)``; nothing is built or run, and the reference
interpreter, which aborts on bad models, is never called).

    python tests/fuzz_models.py --cases 20000 --seed 1 [--out fuzz-failures] [--models-dir DIR]

prints the count of each outcome (``compiled`` or the CompilerError class) and saves every failing
case (another exception, or a timeout) as ``DIR/case-<seed>-<n>.tflite`` with its traceback next to
it. ``tests/test_fuzz.py`` runs a bounded number of the same cases in CI.
"""

from __future__ import annotations

import argparse
import copy
import random
import shutil
import signal
import struct
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from compiler import modelbuilder as mb
from compiler.driver import compile_model
from compiler.errors import CompilerError

CASE_SECONDS = 10
MLPERF_MODELS = ("ad_fcae_int8", "kws_dscnn_int8", "resnet8_int8", "vww_mbv1_int8", "kws_dscnn_float")


# ---- seeds ----

BUILDER_SEEDS: dict[str, Callable[[], bytes]] = {
    "tiny_cnn": mb.tiny_cnn_model,
    "conv2d": mb.conv2d_model,
    "conv2d_per_tensor": lambda: mb.conv2d_model(per_channel=False, stride=(2, 2), padding="VALID"),
    "depthwise": lambda: mb.depthwise_conv2d_model(depth_multiplier=2),
    "fully_connected": mb.fully_connected_model,
    "pool_max": lambda: mb.pool_model("MAX"),
    "add": mb.add_model,
    "softmax": mb.softmax_model,
    "reshape": mb.reshape_model,
    "quantize_edges": mb.quantize_edges_model,
}


@cache
def seed_bytes(name: str, models_dir: str | None = None) -> bytes:
    """The bytes of a seed: a builder model by name, or ``mlperf:<model>`` read from models_dir."""
    if name.startswith("mlperf:"):
        assert models_dir is not None
        return (Path(models_dir) / f"{name[7:]}.tflite").read_bytes()
    return BUILDER_SEEDS[name]()


def seed_names(models_dir: str | Path | None) -> list[str]:
    """Builder seeds, plus the MLPerf Tiny models present in models_dir."""
    names = list(BUILDER_SEEDS)
    if models_dir is not None:
        names += [f"mlperf:{m}" for m in MLPERF_MODELS if (Path(models_dir) / f"{m}.tflite").exists()]
    return names


@cache
def _unpacked(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromPackedBuf(data, 0)


def pack(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# ---- byte mutations ----

INTERESTING_WORDS = (0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
                     0x40000000, 0x10000, 0x1000000)


def _flip_bits(data: bytearray, rng: random.Random) -> str:
    for _ in range(rng.choice((1, 1, 2, 4, 8, 32))):
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
    return "bit flips"


def _overwrite_bytes(data: bytearray, rng: random.Random) -> str:
    for _ in range(rng.choice((1, 2, 4, 16))):
        pos = rng.randrange(len(data))
        n = min(rng.choice((1, 2, 4, 8)), len(data) - pos)
        data[pos:pos + n] = bytes(rng.choice((0, 0xFF, 0x80, 0x7F, rng.randrange(256))) for _ in range(n))
    return "byte overwrites"


def _overwrite_words(data: bytearray, rng: random.Random) -> str:
    """Overwrite aligned 4-byte little-endian words (flatbuffer offsets, vector lengths, vtable entries)."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        pos = rng.randrange(0, max(len(data) - 4, 1), 4) if rng.random() < 0.8 else rng.randrange(len(data) - 4)
        old = struct.unpack_from("<I", data, pos)[0]
        new = rng.choice((*INTERESTING_WORDS, len(data), len(data) + 4, old + 4, old - 4, old * 2,
                          rng.randrange(1 << 32))) & 0xFFFFFFFF
        struct.pack_into("<I", data, pos, new)
    return "word overwrites"


def _overwrite_halfwords(data: bytearray, rng: random.Random) -> str:
    """Overwrite 2-byte words (vtable field offsets and sizes)."""
    for _ in range(rng.choice((1, 2))):
        pos = rng.randrange(0, len(data) - 2, 2)
        struct.pack_into("<H", data, pos, rng.choice((0, 2, 4, 0xFFFF, 0x7FFF, 0xFFFE, rng.randrange(1 << 16))))
    return "halfword overwrites"


def _truncate(data: bytearray, rng: random.Random) -> str:
    cut = rng.choice((rng.randrange(len(data)), rng.randrange(min(64, len(data))), len(data) - rng.randrange(1, 64)))
    del data[max(cut, 0):]
    return "truncation"


def _append(data: bytearray, rng: random.Random) -> str:
    data.extend(rng.randbytes(rng.choice((1, 7, 64, 4096))))
    return "appended garbage"


def _random_bytes(data: bytearray, rng: random.Random) -> str:
    n = rng.choice((0, 3, 8, 16, 64, 512, len(data)))
    new = bytearray(rng.randbytes(n))
    if n >= 8 and rng.random() < 0.8:
        new[4:8] = b"TFL3"
        if rng.random() < 0.5:
            struct.pack_into("<I", new, 0, rng.randrange(8, max(n, 9)))
    data[:] = new
    return "random bytes"


def _splice(data: bytearray, rng: random.Random) -> str:
    """Copy one region over another (plausible-looking offsets in the wrong place)."""
    n = rng.choice((4, 8, 16, 64))
    if len(data) <= 2 * n:
        return _flip_bits(data, rng)
    src, dst = rng.randrange(len(data) - n), rng.randrange(len(data) - n)
    data[dst:dst + n] = data[src:src + n]
    return "splice"


BYTE_MUTATIONS = (_flip_bits, _overwrite_bytes, _overwrite_words, _overwrite_words, _overwrite_halfwords,
                  _truncate, _append, _random_bytes, _splice)


# ---- structural mutations (valid flatbuffers, absurd contents) ----

HUGE_DIMS = (2**31 - 1, 2**30, 65536, 100_000)
BAD_SCALES = (0.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e-45, 3e38, 1e-30)


def _tensors(m: schema.ModelT) -> list:
    return m.subgraphs[0].tensors or []


def _ops(m: schema.ModelT) -> list:
    return m.subgraphs[0].operators or []


def _pick_tensor(m: schema.ModelT, rng: random.Random, pred: Callable = lambda t: True):
    cands = [t for t in _tensors(m) if pred(t)]
    return rng.choice(cands) if cands else None


def _quantized(t) -> bool:
    return t.quantization is not None and t.quantization.scale is not None and len(t.quantization.scale) > 0


def _s_huge_shape(m, rng):
    t = _pick_tensor(m, rng)
    t.shape = [rng.choice(HUGE_DIMS) for _ in range(rng.choice((1, 2, 4, 6)))]
    return f"huge shape on {t.name!r}"


def _s_negative_dim(m, rng):
    t = _pick_tensor(m, rng)
    shape = list(t.shape if t.shape is not None else [1])
    shape[rng.randrange(len(shape)) if shape else 0:1] = [rng.choice((-1, -2, -(2**31)))]
    t.shape = shape
    return f"negative dimension on {t.name!r}"


def _s_zero_or_rank(m, rng):
    t = _pick_tensor(m, rng)
    shape = list(t.shape if t.shape is not None else [])
    choice = rng.randrange(4)
    if choice == 0 and shape:
        shape[rng.randrange(len(shape))] = 0
    elif choice == 1:
        shape = shape + [1]
    elif choice == 2:
        shape = shape[:-1]
    else:
        shape = [rng.randrange(1, 9) for _ in range(rng.randrange(0, 6))]
    t.shape = shape
    return f"reshaped {t.name!r} to {shape}"


def _s_bad_scale(m, rng):
    t = _pick_tensor(m, rng, _quantized)
    if t is None:
        return _s_huge_shape(m, rng)
    scales = np.array(t.quantization.scale, dtype=np.float32)
    scales[rng.randrange(scales.size)] = rng.choice(BAD_SCALES)
    t.quantization.scale = scales
    return f"bad scale on {t.name!r}"


def _s_bad_zero_point(m, rng):
    t = _pick_tensor(m, rng, _quantized)
    if t is None:
        return _s_huge_shape(m, rng)
    zps = np.array(t.quantization.zeroPoint if t.quantization.zeroPoint is not None else [0], dtype=np.int64)
    zps[rng.randrange(zps.size)] = rng.choice((128, -129, 255, 1000, -(2**31), 2**31 - 1, 2**62))
    t.quantization.zeroPoint = zps
    return f"bad zero point on {t.name!r}"


def _s_per_channel(m, rng):
    t = _pick_tensor(m, rng, _quantized)
    if t is None:
        return _s_huge_shape(m, rng)
    q = t.quantization
    choice = rng.randrange(4)
    if choice == 0:  # wrong length
        n = max(len(q.scale) + rng.choice((-1, 1, 5)), 2)
        q.scale = np.full(n, 0.01, dtype=np.float32)
        q.zeroPoint = np.zeros(n, dtype=np.int64)
    elif choice == 1:  # quantized dimension out of range
        q.quantizedDimension = rng.choice((-1, 4, 7, 2**31 - 1))
        if len(q.scale) < 2:
            q.scale = np.full(3, 0.01, dtype=np.float32)
            q.zeroPoint = np.zeros(3, dtype=np.int64)
    elif choice == 2:  # zero points of another length
        q.zeroPoint = np.zeros(rng.choice((0, len(q.scale) + 1)), dtype=np.int64)
    else:  # quantized dimension moved
        q.quantizedDimension = rng.randrange(4)
    return f"per-channel quantization broken on {t.name!r}"


def _s_drop_quantization(m, rng):
    t = _pick_tensor(m, rng)
    t.quantization = None if rng.random() < 0.5 else schema.QuantizationParametersT()
    return f"quantization removed from {t.name!r}"


def _s_tensor_type(m, rng):
    t = _pick_tensor(m, rng)
    t.type = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 99, 127))
    return f"type {t.type} on {t.name!r}"


def _s_op_index(m, rng):
    ops = _ops(m)
    if not ops:
        return _s_huge_shape(m, rng)
    op = rng.choice(ops)
    n = len(_tensors(m))
    bad = rng.choice((n, n + 7, -2, -(2**31), 2**31 - 1, -1))
    field = rng.choice(("inputs", "outputs"))
    values = list(getattr(op, field) if getattr(op, field) is not None else [])
    if values and rng.random() < 0.8:
        values[rng.randrange(len(values))] = bad
    else:
        values.append(bad)
    setattr(op, field, values)
    return f"operator {field} index {bad}"


def _s_op_arity(m, rng):
    ops = _ops(m)
    if not ops:
        return _s_huge_shape(m, rng)
    op = rng.choice(ops)
    field = rng.choice(("inputs", "outputs"))
    values = list(getattr(op, field) if getattr(op, field) is not None else [])
    n = len(_tensors(m))
    if values and rng.random() < 0.5:
        del values[rng.randrange(len(values))]
    elif n:
        values.append(rng.randrange(n))
    setattr(op, field, values)
    return f"operator {field} arity changed"


def _s_opcode(m, rng):
    ops = _ops(m)
    choice = rng.randrange(3)
    if choice == 0 and ops:
        op = rng.choice(ops)
        op.opcodeIndex = rng.choice((len(m.operatorCodes or []), 2**31 - 1, -1, 255))
        return f"opcode index {op.opcodeIndex}"
    if choice == 1 and m.operatorCodes:
        code = rng.choice(m.operatorCodes)
        code.builtinCode = rng.choice((0, 2, 3, 4, 9, 17, 22, 25, 32, 200, 2**31 - 1, -5))
        code.deprecatedBuiltinCode = rng.choice((0, 127, code.deprecatedBuiltinCode))
        return f"builtin code {code.builtinCode}"
    if m.operatorCodes:
        code = rng.choice(m.operatorCodes)
        code.builtinCode, code.deprecatedBuiltinCode = 32, 32
        code.customCode = rng.choice((b"\xff\xfe", b"", b"X" * 300))
        return "custom op"
    return _s_huge_shape(m, rng)


def _s_buffer_index(m, rng):
    t = _pick_tensor(m, rng)
    t.buffer = rng.choice((len(m.buffers or []), 2**32 - 1, 2**31, 0, 1))
    return f"buffer index {t.buffer} on {t.name!r}"


def _s_buffer_data(m, rng):
    bufs = [b for b in (m.buffers or []) if b.data is not None and len(b.data) > 0]
    if not bufs:
        return _s_buffer_index(m, rng)
    b = rng.choice(bufs)
    choice = rng.randrange(4)
    if choice == 0:
        b.data = np.asarray(b.data)[:rng.randrange(len(b.data))]
    elif choice == 1:
        b.data = np.concatenate([np.asarray(b.data, dtype=np.uint8), np.zeros(rng.choice((1, 3, 64)), np.uint8)])
    elif choice == 2:
        b.data = np.frombuffer(rng.randbytes(len(b.data)), dtype=np.uint8).copy()
    else:  # extreme values: folded biases that overflow, huge weights
        b.data = np.full(len(b.data), rng.choice((0x7F, 0x80, 0xFF)), dtype=np.uint8)
    return "buffer data changed"


def _s_buffer_offset(m, rng):
    bufs = [b for b in (m.buffers or [])[1:]]
    if not bufs:
        return _s_buffer_index(m, rng)
    b = rng.choice(bufs)
    b.data = None
    b.offset = rng.choice((2, 8, 2**40, 2**63 - 1))
    b.size = rng.choice((0, 4, 2**40, 2**63 - 1))
    return f"buffer offset {b.offset} size {b.size}"


def _s_cycle(m, rng):
    ops = _ops(m)
    if len(ops) < 1:
        return _s_huge_shape(m, rng)
    choice = rng.randrange(3)
    if choice == 0 and len(ops) >= 2:
        ops.reverse()
        return "operators reversed"
    first, last = ops[0], ops[-1]
    if choice == 1 and first.inputs is not None and len(first.inputs) and last.outputs is not None and len(last.outputs):
        inputs = list(first.inputs)
        inputs[0] = last.outputs[0]
        first.inputs = inputs
        return "first operator reads the last one's output (cycle)"
    op = rng.choice(ops)
    if op.inputs is not None and len(op.inputs) and op.outputs is not None and len(op.outputs):
        inputs = list(op.inputs)
        inputs[0] = op.outputs[0]
        op.inputs = inputs
        return "operator reads its own output"
    return _s_huge_shape(m, rng)


def _s_dataflow(m, rng):
    sub = m.subgraphs[0]
    ops = _ops(m)
    choice = rng.randrange(6)
    const = [i for i, t in enumerate(_tensors(m)) if t.buffer]
    if choice == 0:
        sub.inputs = []
        return "no graph inputs"
    if choice == 1:
        sub.outputs = []
        return "no graph outputs"
    if choice == 2 and const:
        target = rng.choice(("inputs", "outputs"))
        setattr(sub, target, [rng.choice(const)])
        return f"graph {target} is a constant"
    if choice == 3 and len(ops) >= 2 and ops[0].outputs is not None and ops[1].outputs is not None:
        ops[1].outputs = list(ops[0].outputs)
        return "tensor written twice"
    if choice == 4 and ops and sub.inputs is not None and len(sub.inputs):
        ops[-1].outputs = [sub.inputs[0]]
        return "operator writes a graph input"
    if choice == 5 and sub.inputs is not None:
        sub.inputs = list(sub.inputs) * 2
        sub.outputs = list(sub.outputs if sub.outputs is not None else []) * 2
        return "duplicate graph inputs and outputs"
    sub.outputs = [rng.randrange(len(_tensors(m)))] if _tensors(m) else [0]
    return "graph output moved"


def _s_options(m, rng):
    ops = [op for op in _ops(m) if op.builtinOptions is not None]
    if not ops:
        return _s_opcode(m, rng)
    opts = rng.choice(ops).builtinOptions
    fields = [f for f in vars(opts) if not f.startswith("_")]
    if not fields:
        return _s_opcode(m, rng)
    field = rng.choice(fields)
    old = getattr(opts, field)
    if isinstance(old, float):
        new = rng.choice((0.0, -1.0, float("nan"), float("inf"), 1e38))
    elif isinstance(old, bool):
        new = not old
    elif isinstance(old, int):
        new = rng.choice((0, -1, 2, 5, 127, 2**31 - 1, -(2**31)))
    else:
        new = rng.choice(([], [-1, -1], [2**31 - 1, 2**31 - 1], [0], [1, 3, 3]))
    setattr(opts, field, new)
    return f"option {field}={new!r}"


def _s_empty(m, rng):
    sub = m.subgraphs[0]
    choice = rng.randrange(4)
    if choice == 0:
        sub.tensors = []
    elif choice == 1:
        sub.operators = []
    elif choice == 2:
        m.buffers = []
    else:
        m.subgraphs = []
    return "emptied a table"


def _s_many_ops(m, rng):
    ops = _ops(m)
    if not ops:
        return _s_huge_shape(m, rng)
    m.subgraphs[0].operators = ops * rng.choice((2, 3, 20_000 // max(len(ops), 1) + 1))
    return "operators repeated"


STRUCT_MUTATIONS = (_s_huge_shape, _s_negative_dim, _s_zero_or_rank, _s_bad_scale, _s_bad_zero_point, _s_per_channel,
                    _s_drop_quantization, _s_tensor_type, _s_op_index, _s_op_arity, _s_opcode, _s_buffer_index,
                    _s_buffer_data, _s_buffer_offset, _s_cycle, _s_dataflow, _s_options, _s_empty, _s_many_ops)


# ---- cases ----

@dataclass(frozen=True)
class Case:
    number: int
    seed_name: str
    description: str
    data: bytes


def make_case(number: int, seed: int, names: list[str], models_dir: str | None) -> Case:
    """Case ``number`` of the run with this seed: deterministic, so any case can be regenerated alone."""
    rng = random.Random(f"edgec-fuzz-{seed}-{number}")
    name = rng.choice(names)
    original = seed_bytes(name, models_dir)
    if rng.random() < 0.5:
        data = bytearray(original)
        what = [(rng.choice(BYTE_MUTATIONS) if len(data) >= 16 else _append)(data, rng)
                for _ in range(rng.choice((1, 1, 1, 2)))]
        return Case(number, name, ", ".join(what), bytes(data))
    for _ in range(5):
        model = copy.deepcopy(_unpacked(original))
        try:
            what = [rng.choice(STRUCT_MUTATIONS)(model, rng) for _ in range(rng.choice((1, 1, 1, 2)))]
            return Case(number, name, "; ".join(what), pack(model))
        except Exception:  # noqa: BLE001 - a mutation that does not apply, or that the object API cannot pack
            continue
    data = bytearray(original)
    return Case(number, name, _flip_bits(data, rng), bytes(data))


class CaseTimeout(BaseException):
    """A case ran over its time limit (BaseException so no ``except Exception`` in the compiler swallows it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout in the main thread after ``seconds`` (SIGALRM; POSIX only)."""

    def expire(signum, frame):
        raise CaseTimeout(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_case(case: Case, workdir: Path, seconds: float = CASE_SECONDS) -> str:
    """``compiled`` or the CompilerError's class name; any other exception (or CaseTimeout) propagates."""
    outdir = workdir / "out"
    try:
        with time_limit(seconds):
            compile_model(case.data, "host", outdir, force=True)
        return "compiled"
    except CompilerError as exc:
        return type(exc).__name__
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def describe_failure(case: Case, exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"case {case.number} (seed model {case.seed_name}; {case.description}): {type(exc).__name__}: {exc}\n{tb}"


def fuzz(cases: int, seed: int, models_dir: str | None, out: Path | None, names: list[str] | None = None,
         first: int = 0, log: Callable[[str], None] = print) -> tuple[Counter, list[str]]:
    """Run cases [first, first + cases); returns (outcome counts, failure descriptions)."""
    names = names or seed_names(models_dir)
    counts: Counter = Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgec-fuzz-") as tmp:
        for number in range(first, first + cases):
            case = make_case(number, seed, names, models_dir)
            try:
                outcome = run_case(case, Path(tmp))
            except (Exception, CaseTimeout) as exc:  # noqa: BLE001 - any of these is the bug we look for
                outcome = f"FAILED {type(exc).__name__}"
                failures.append(describe_failure(case, exc))
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    stem = out / f"case-{seed}-{number}"
                    stem.with_suffix(".tflite").write_bytes(case.data)
                    stem.with_suffix(".txt").write_text(failures[-1])
                log(failures[-1])
            counts[outcome] += 1
    return counts, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="number of the first case (to rerun one case)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="where failing cases are saved")
    parser.add_argument("--models-dir", default=None, help="MLPerf Tiny models (default: as tests/conftest.py)")
    args = parser.parse_args(argv)
    models_dir = args.models_dir
    if models_dir is None:
        import os

        models_dir = os.environ.get("EDGEC_MODELS_DIR", str(REPO.parent / "shared" / "models" / "mlperf_tiny"))
    if not Path(models_dir).is_dir():
        models_dir = None
    counts, failures = fuzz(args.cases, args.seed, models_dir, args.out)
    width = max(len(k) for k in counts) if counts else 0
    for outcome, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{outcome:<{width}}  {n}")
    print(f"{sum(counts.values())} cases, {len(failures)} failing" + (f" (saved in {args.out})" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
