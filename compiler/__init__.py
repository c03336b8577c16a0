"""edgec: compile trained TFLite models to integer-only C for microcontrollers.

The Python API (compiler/api.py) is re-exported here: ``compiler.compile``, ``compiler.run``,
``compiler.inspect``, ``compiler.load_report``, ``compiler.list_targets``. It is imported on first use, so
``import compiler`` (and the CLI's start-up) stays cheap.
"""

__version__ = "0.1.0"

_API = ("compile", "run", "inspect", "load_report", "list_targets", "CompileResult", "Layer", "ModelInfo", "RunResult",
        "TargetInfo")


def __getattr__(name: str):  # PEP 562: lazy re-export of the API
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")
