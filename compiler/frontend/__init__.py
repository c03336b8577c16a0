"""Readers of model files into the frontend Graph (compiler.graph)."""

from .tflite import read_tflite

__all__ = ["read_tflite"]
