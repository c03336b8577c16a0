"""How a model is named in reports and messages: its path, or the label its bytes carry.

A model reaches the driver as a path or as bytes. Bytes that edgec made itself (a float model
quantized by ``--calibration``) come as :class:`LabelledModel`, which names where they came from,
so that ``edgec run``'s summary and report.json say ``m.tflite quantized (mse, ...)`` rather
than an anonymous ``<bytes>``. Plain bytes stay ``<bytes>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self


class LabelledModel(bytes):
    """A model's bytes with a label for messages; otherwise exactly the bytes."""

    label: str

    def __new__(cls, data: bytes, label: str = "<bytes>") -> Self:
        obj = super().__new__(cls, data)
        obj.label = label
        return obj


def model_label(model: str | Path | bytes) -> str:
    """The model's path, the label of a :class:`LabelledModel`, or ``<bytes>``."""
    if isinstance(model, bytes | bytearray):
        return getattr(model, "label", "<bytes>")
    return str(model)
