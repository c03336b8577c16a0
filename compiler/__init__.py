"""edgec: compile trained TFLite models to integer-only C for microcontrollers."""

__version__ = "0.1.0"
