"""Operator coverage of a model without compiling it: what `edgec inspect MODEL --check` prints.

The model is read, validated and run through the graph passes exactly as `edgec compile` does, then
every remaining operator is put through the same support checks that gate lowering
(:func:`compiler.lower.op_support`), and the model inputs through :func:`compiler.lower.check_support`'s
input rule. Operators removed by the passes are counted as folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .frontend import read_tflite
from .lower import OpSupport, check_support, op_support, supported_ops
from .passes import optimize


@dataclass(frozen=True, slots=True)
class Coverage:
    model_operators: int  # in the file
    entries: tuple[OpSupport, ...]  # after the graph passes
    model_problems: tuple[str, ...]  # problems not tied to one operator (model inputs)

    @property
    def all_supported(self) -> bool:
        return not self.model_problems and all(e.supported for e in self.entries)

    def lines(self) -> list[str]:
        out = []
        for e in self.entries:
            verdict = "supported" if e.supported else "NOT supported: " + "; ".join(e.problems)
            out.append(f"{e.description}: {verdict}")
        out += [f"model: NOT supported: {p}" for p in self.model_problems]
        ok = sum(e.supported for e in self.entries)
        folded = self.model_operators - len(self.entries)
        out.append(f"{ok} of {len(self.entries)} operators supported ({folded} folded away by graph passes"
                   f" from the file's {self.model_operators}); {len(self.model_problems)} model-level problem(s)")
        if not self.all_supported:
            out.append("supported ops: " + ", ".join(supported_ops()))
        return out


def coverage(model: str | Path | bytes) -> Coverage:
    original = read_tflite(model)
    graph = optimize(original)
    entries = tuple(op_support(graph))
    described = {e.description for e in entries}
    model_problems = tuple(p for p in check_support(graph) if not any(p.startswith(d + ":") for d in described))
    return Coverage(len(original.operators), entries, model_problems)
