"""A one-line text progress bar on stderr for streamed passes over a calibration set."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int, label: str, enabled: bool = True, stream: TextIO | None = None,
             width: int = 30) -> Iterator[T]:
    """Yield ``items``, redrawing ``label [#####-----] done/total`` after each (``total`` counts items)."""
    out = stream or sys.stderr
    for done, item in enumerate(items, start=1):
        yield item
        if enabled:
            filled = width * done // max(total, 1)
            out.write(f"\r{label:24s} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}")
            out.flush()
    if enabled:
        out.write("\n")
        out.flush()
