"""The compiler's trust boundary: every problem a user can cause is one of these.

Only the CLI turns them into messages and exit codes; library code raises them and never
prints or exits. Each message names the problem and, where there is one, the way out.
"""

from __future__ import annotations


class CompilerError(Exception):
    """Base of every error edgec reports to a user."""

    exit_code = 1


class ModelFileError(CompilerError):
    """The model file cannot be read: missing, not a TFLite flatbuffer, or internally inconsistent."""

    exit_code = 2

    def __init__(self, path: str, step: str, detail: str) -> None:
        self.path, self.step, self.detail = path, step, detail
        super().__init__(f"{path}: cannot read model ({step}): {detail}")


class UnsupportedModelError(CompilerError):
    """The model uses ops or parameters edgec does not compile; lists every one."""

    exit_code = 3

    def __init__(self, problems: list[str], supported: list[str]) -> None:
        self.problems, self.supported = problems, supported
        lines = ["the model uses what edgec cannot compile yet:"]
        lines += [f"  - {p}" for p in problems]
        lines.append("supported ops: " + ", ".join(supported))
        super().__init__("\n".join(lines))


class DoesNotFitError(CompilerError):
    """The compiled model needs more flash or SRAM than the target has."""

    exit_code = 4


class UsageError(CompilerError):
    """Bad command-line input: unknown target, input file of the wrong shape or dtype, and the like."""

    exit_code = 5


class ToolchainError(CompilerError):
    """An external tool (compiler, emulator) is missing or failed."""

    exit_code = 6


class InternalError(CompilerError):
    """An invariant of the compiler itself broke (a bug in edgec, not in the user's input)."""

    exit_code = 70
