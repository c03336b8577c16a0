"""Lowering: frontend Graph (float scales) -> integer-only IR Program.

One module per op family registers, for each TFLite op it handles, a lowering function and
the support checks that must pass first. A check is a small named predicate
``(graph, op) -> problem text or None`` whose docstring is the rule as users read it (it
generates docs/SUPPORTED_OPS.md). :func:`lower` runs every check over the whole graph
before lowering anything, so an unsupported model fails with every problem listed once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import ir
from ..errors import UnsupportedModelError
from ..graph import Graph, Operator, Tensor

Check = Callable[[Graph, Operator], "str | None"]
LowerFn = Callable[["LoweringContext", Operator], None]


@dataclass(frozen=True, slots=True)
class Lowering:
    op: str
    fn: LowerFn
    checks: tuple[Check, ...]


REGISTRY: dict[str, Lowering] = {}

# Op-family modules; importing one registers its lowerings.
_FAMILIES = ("conv", "pool", "add", "softmax", "layout", "convert", "movement", "reduce", "activation", "mul")


def register(op_name: str, *checks: Check) -> Callable[[LowerFn], LowerFn]:
    """Decorator: ``@register("CONV_2D", check_a, check_b)`` on the lowering function."""

    def wrap(fn: LowerFn) -> LowerFn:
        if op_name in REGISTRY:
            raise RuntimeError(f"two lowerings for {op_name}")
        REGISTRY[op_name] = Lowering(op_name, fn, tuple(checks))
        return fn

    return wrap


def _load_families() -> None:
    for family in _FAMILIES:
        importlib.import_module(f"{__name__}.{family}")


def supported_ops() -> list[str]:
    _load_families()
    return sorted(REGISTRY)


@dataclass(slots=True)
class LoweringContext:
    """What a lowering function sees: the graph, and the IR being built."""

    graph: Graph
    values: list[ir.Value] = field(default_factory=list)
    ops: list[ir.Op] = field(default_factory=list)
    value_of: dict[int, int] = field(default_factory=dict)  # graph tensor index -> IR value id

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def value(self, tensor_index: int) -> int:
        """The IR value for an activation tensor of the graph, created on first use."""
        if tensor_index in self.value_of:
            return self.value_of[tensor_index]
        t = self.graph.tensors[tensor_index]
        scale = t.quant.scale[0] if t.quant is not None and t.quant.scale else None
        zp = t.quant.zero_point[0] if t.quant is not None and t.quant.zero_point else 0
        vid = self.new_value(t.name, t.shape, ir.DType(t.dtype), scale, zp)
        self.value_of[tensor_index] = vid
        return vid

    def new_value(self, name: str, shape: tuple[int, ...], dtype: ir.DType, scale: float | None = None,
                  zero_point: int = 0) -> int:
        """A value the lowering introduces itself (not a tensor of the graph)."""
        vid = len(self.values)
        self.values.append(ir.Value(vid, name, tuple(int(d) for d in shape), dtype, scale, int(zero_point)))
        return vid

    def emit(self, op: ir.Op) -> None:
        self.ops.append(op)


@dataclass(frozen=True, slots=True)
class OpSupport:
    """Whether one operator lowers: its description (index, op, output tensor) and every failed rule."""

    operator: Operator
    description: str
    problems: tuple[str, ...]

    @property
    def supported(self) -> bool:
        return not self.problems


def op_support(graph: Graph) -> list[OpSupport]:
    """Every operator of the graph with the problems its support checks report (none: it lowers)."""
    _load_families()
    report = []
    for op in graph.operators:
        lowering = REGISTRY.get(op.op)
        if lowering is None:
            problems: tuple[str, ...] = (f"op {op.op} is not supported",)
        else:
            problems = tuple(p for p in (check(graph, op) for check in lowering.checks) if p)
        report.append(OpSupport(op, graph.describe(op), problems))
    return report


def check_support(graph: Graph) -> list[str]:
    """What stops the graph from lowering: one line per unsupported operator (its reasons joined), then model inputs."""
    problems = [f"{entry.description}: {'; '.join(entry.problems)}" for entry in op_support(graph) if entry.problems]
    for index in graph.inputs:
        t = graph.tensors[index]
        if t.dtype not in ("int8", "float32"):
            problems.append(f"model input {t.name!r} is {t.dtype}; edgec takes int8 or float32 inputs")
    return problems


def lower(graph: Graph) -> ir.Program:
    """Lower a supported graph to a verified IR program; raises UnsupportedModelError listing every problem."""
    problems = check_support(graph)
    if problems:
        raise UnsupportedModelError(problems, supported_ops())
    ctx = LoweringContext(graph)
    inputs = tuple(ctx.value(i) for i in graph.inputs)
    for op in graph.operators:
        REGISTRY[op.op].fn(ctx, op)
    outputs = tuple(ctx.value(i) for i in graph.outputs)
    program = ir.Program(graph.name, tuple(ctx.values), tuple(ctx.ops), inputs, outputs, graph.sha256)
    ir.verify(program)
    return program


def constant(graph: Graph, index: int, dtype: type) -> np.ndarray:
    """A constant input's data as ``dtype`` (shared by the family modules)."""
    t = graph.tensors[index]
    assert t.data is not None, f"tensor {t.name!r} is not constant"
    return np.asarray(t.data).astype(dtype)
