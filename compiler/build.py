"""Build a generated project with its Makefile (see ``codegen/templates/Makefile.j2``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from compiler.errors import DoesNotFitError, ToolchainError, UsageError
from compiler.targets import Target

__all__ = ["INSTALL_HINT", "build", "executable_path"]

INSTALL_HINT = (
    "install the toolchain with `bash toolchains/install.sh` from the edgec source tree "
    "(Debian/Ubuntu: gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm, gcc-riscv64-unknown-elf, "
    "picolibc-riscv64-unknown-elf, qemu-system-misc, make, cmake, gcc)"
)

_TAIL_LINES = 40


def _tail(text: str, lines: int = _TAIL_LINES) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept)


_OVERFLOW = re.compile(r"region `([^']+)' overflowed by (\d+) bytes")
_NO_FIT = re.compile(r"edgec: (.*do not fit in \S+)")


def _raise_if_overflow(output: str, target: Target) -> None:
    """A link that failed because the image is larger than a memory region is a fit error, not a toolchain one."""
    overflows = [(region, int(n)) for region, n in _OVERFLOW.findall(output)]
    if overflows:
        parts = ", ".join(f"{region} by {n:,} bytes" for region, n in overflows)
        raise DoesNotFitError(f"the program does not fit {target.name}: the linker overflowed {parts}; "
                              "choose a target with more memory")
    match = _NO_FIT.search(output)
    if match:
        raise DoesNotFitError(f"the program does not fit {target.name}: {match.group(1)} (linker script check); "
                              "choose a target with more memory")


def executable_path(outdir: Path, target: Target) -> Path:
    """Where ``make`` puts the program: ``DIR/build/edgec_model[.elf]``."""
    return Path(outdir) / "build" / target.executable_name


def _make_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "CC", "CFLAGS", "LDFLAGS"):
        env.pop(var, None)
    env["LC_ALL"] = "C"
    return env


def build(outdir: Path, target: Target, *, werror: bool = False, sanitize: bool = False) -> Path:
    """Run ``make`` in ``outdir`` and return the built program's path.

    ``werror`` adds -Werror; ``sanitize`` (host only) builds with AddressSanitizer and
    UndefinedBehaviorSanitizer. Raises ToolchainError when make or the compiler is missing
    or the build fails (with the tail of the compiler's output), UsageError for a sanitizer
    build of a bare-metal target.
    """
    outdir = Path(outdir)
    if sanitize and not target.is_host:
        raise UsageError(f"sanitizer builds need the host target, not {target.name!r}")
    if not (outdir / "Makefile").is_file():
        raise UsageError(f"{outdir} has no Makefile; write the project first")
    compiler = target.tool("gcc")
    for tool in ("make", compiler):
        if shutil.which(tool) is None:
            raise ToolchainError(f"{tool} not found on PATH (needed to build for {target.name}); {INSTALL_HINT}")
    cmd = [
        "make",
        "-C",
        str(outdir),
        f"-j{max(1, os.cpu_count() or 1)}",
        f"WERROR={int(werror)}",
        f"SANITIZE={int(sanitize)}",
    ]
    try:
        proc = subprocess.run(
            cmd, check=False, capture_output=True, text=True, env=_make_env(), stdin=subprocess.DEVNULL
        )
    except OSError as e:
        raise ToolchainError(f"cannot run make: {e}; {INSTALL_HINT}") from e
    if proc.returncode != 0:
        detail = _tail(proc.stderr) or _tail(proc.stdout)
        _raise_if_overflow(proc.stderr + proc.stdout, target)
        raise ToolchainError(
            f"building {outdir} for {target.name} failed (make exit status {proc.returncode}):\n{detail}\n"
            f"(if a tool is missing: {INSTALL_HINT})"
        )
    exe = executable_path(outdir, target)
    if not exe.is_file():
        raise ToolchainError(f"make succeeded but {exe} is missing:\n{_tail(proc.stdout)}")
    return exe
