"""Run one inference of a built program on its target: a QEMU machine or a host process.

The program is the simulation main (``codegen/templates/main_sim.c.j2``): it reads the input
tensor from a file, calls ``edgec_model_invoke`` once, writes the output tensor to a file and
prints ``EDGEC_RESULT status=<s> instructions=<n> stack_bytes=<b>``.

On QEMU the instruction count comes from a timer on QEMU's virtual clock under
``-icount shift=0`` (1 ns per executed instruction; 40 instructions per tick of the 25 MHz
timer on mps2), so it is deterministic and has a resolution of +/- one tick (40
instructions). Instructions are a proxy for cycles, not cycles. On the host nothing is
measured and both numbers are None.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compiler.build import INSTALL_HINT
from compiler.errors import ToolchainError
from compiler.targets import Target

__all__ = ["SimResult", "qemu_command", "run"]

_RESULT = re.compile(r"^EDGEC_RESULT status=(-?\d+) instructions=(-?\d+) stack_bytes=(-?\d+)\s*$", re.MULTILINE)
_INPUT = "input.bin"
_OUTPUT = "output.bin"
_TAIL_LINES = 30


@dataclass(frozen=True, slots=True)
class SimResult:
    """What one run produced. ``instructions``/``stack_bytes`` are None where not measured."""

    output: bytes
    status: int
    instructions: int | None
    stack_bytes: int | None
    stdout: str


def qemu_command(executable: Path, target: Target, input_name: str = _INPUT, output_name: str = _OUTPUT) -> list[str]:
    """The QEMU command line for one run; file names are relative to QEMU's working directory."""
    if not target.is_qemu or target.qemu_machine is None:
        raise ToolchainError(f"target {target.name} does not run on QEMU")
    for name in (input_name, output_name):
        if "," in name or " " in name:
            raise ToolchainError(f"file name {name!r} cannot be passed on the semihosting command line")
    semihosting = f"enable=on,target=native,arg=edgec_model,arg={input_name},arg={output_name}"
    return [
        target.qemu_binary,
        "-M",
        target.qemu_machine,
        *target.qemu_args,
        "-nographic",
        "-semihosting-config",
        semihosting,
        "-kernel",
        str(Path(executable).resolve()),
        "-icount",
        "shift=0",
    ]


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-_TAIL_LINES:])


def run(executable: Path, target: Target, input_bytes: bytes, output_size: int, timeout_s: float = 600) -> SimResult:
    """Run the program once on ``input_bytes`` and return its output and measurements.

    Raises ToolchainError when the emulator is missing, the run times out, exits with a
    non-zero status, prints no EDGEC_RESULT line, or writes an output of the wrong size.
    """
    executable = Path(executable).resolve()
    if not executable.is_file():
        raise ToolchainError(f"{executable}: no such program; build it first")
    if target.is_qemu:
        cmd = qemu_command(executable, target)
        if shutil.which(cmd[0]) is None:
            raise ToolchainError(f"{cmd[0]} not found on PATH (needed to run {target.name}); {INSTALL_HINT}")
        where = f"QEMU ({target.qemu_machine})"
    else:
        cmd = [str(executable), _INPUT, _OUTPUT]
        where = "the host"

    with tempfile.TemporaryDirectory(prefix="edgec-run-") as tmp:
        workdir = Path(tmp)
        (workdir / _INPUT).write_bytes(input_bytes)
        try:
            proc = subprocess.run(
                cmd,
                check=False,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            raise ToolchainError(
                f"{executable.name} on {where} did not finish in {timeout_s:g} s (a hang, or a model that needs a longer timeout):\n{_tail(out)}"
            ) from e
        except OSError as e:
            raise ToolchainError(f"cannot run {cmd[0]}: {e}; {INSTALL_HINT}") from e
        combined = proc.stdout + (("\n" + proc.stderr) if proc.stderr.strip() else "")
        # picolibc's semihosting stdout (RISC-V) reaches QEMU's console, which QEMU writes to stderr.
        match = _RESULT.search(proc.stdout) or _RESULT.search(proc.stderr)
        if proc.returncode != 0 or match is None:
            reason = f"exit status {proc.returncode}" if proc.returncode != 0 else "no EDGEC_RESULT line"
            raise ToolchainError(f"{executable.name} on {where} failed ({reason}):\n{_tail(combined)}")
        out_path = workdir / _OUTPUT
        output = out_path.read_bytes() if out_path.is_file() else b""
    if len(output) != output_size:
        raise ToolchainError(
            f"{executable.name} on {where} wrote {len(output)} output bytes, expected {output_size}:\n{_tail(combined)}"
        )
    status, instructions, stack_bytes = (int(g) for g in match.groups())
    return SimResult(
        output=output,
        status=status,
        instructions=None if instructions < 0 else instructions,
        stack_bytes=None if stack_bytes < 0 else stack_bytes,
        stdout=combined,
    )
