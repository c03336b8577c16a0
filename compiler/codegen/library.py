"""The generated model as a library for someone else's build: which files, which flags.

``edgec compile`` writes, beside its own Makefile:

- ``sources.txt``: the C files of the model and of the runtime kernels it calls, one path per
  line, relative to the project folder;
- ``flags.txt``: the compiler flags they need (the target's architecture flags, C99, the include
  folders as ``-I`` relative to the project folder), one per line;
- ``library.cmake``: a CMake file defining the static library target ``edgec_model`` from the same
  lists; ``include(<DIR>/library.cmake)`` then ``target_link_libraries(app PRIVATE edgec_model)``.

Which kernels: every ``runtime/src/**/*.c`` file is named after the one public function it
defines (the CMSIS-NN convention the runtime follows). Starting from the identifiers ``model.c``
uses, a file is needed when its name is one of them; the identifiers a needed file uses, and
those of the internal headers beside it, are followed the same way until nothing new is found.
Headers are all listed by folder, not by file.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from compiler.resources import templates_dir
from compiler.targets import Target

__all__ = ["INCLUDE_DIRS", "needed_runtime_sources", "write_library_files"]

INCLUDE_DIRS = (".", "runtime/include")
_IDENT = re.compile(r"\bedgec_[A-Za-z0-9_]+\b")


def _identifiers(text: str) -> set[str]:
    return set(_IDENT.findall(text))


def needed_runtime_sources(runtime_root: Path, roots: list[str]) -> list[str]:
    """Paths (relative to ``runtime_root``, POSIX) of the runtime sources reachable from ``roots``' identifiers."""
    by_name = {p.stem: p for p in sorted((runtime_root / "src").rglob("*.c"))}
    wanted: set[str] = set()
    frontier: set[str] = set()
    for text in roots:
        frontier |= _identifiers(text)
    scanned_dirs: set[Path] = set()
    while frontier:
        new = {name for name in frontier if name in by_name and name not in wanted}
        wanted |= new
        frontier = set()
        for name in new:
            path = by_name[name]
            frontier |= _identifiers(path.read_text(encoding="utf-8", errors="replace"))
            if path.parent not in scanned_dirs:
                scanned_dirs.add(path.parent)
                for header in sorted(path.parent.glob("*.h")):
                    frontier |= _identifiers(header.read_text(encoding="utf-8", errors="replace"))
    return sorted(by_name[n].relative_to(runtime_root).as_posix() for n in wanted)


def library_lists(outdir: Path, target: Target, model_sources: list[str]) -> tuple[list[str], list[str]]:
    """(sources, flags) for the model in ``outdir``: model files, the kernels they reach, and the compile flags."""
    outdir = Path(outdir)
    texts = [(outdir / name).read_text(encoding="utf-8") for name in model_sources]
    runtime = [f"runtime/{rel}" for rel in needed_runtime_sources(outdir / "runtime", texts)]
    flags = [*target.cflags, "-std=c99", *(f"-I{d}" for d in INCLUDE_DIRS)]
    return [*model_sources, *runtime], flags


def write_library_files(outdir: Path, target: Target, header_line: str,
                        model_sources: tuple[str, ...] = ("model.c",)) -> list[str]:
    """Write sources.txt, flags.txt and library.cmake into ``outdir`` (runtime/ must be there); return the sources."""
    outdir = Path(outdir)
    sources, flags = library_lists(outdir, target, list(model_sources))
    (outdir / "sources.txt").write_text("".join(f"{s}\n" for s in sources))
    (outdir / "flags.txt").write_text("".join(f"{f}\n" for f in flags))
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                                     lstrip_blocks=True)
    text = environment.get_template("library.cmake.j2").render(
        header_line=header_line, target=target, sources=sources, include_dirs=INCLUDE_DIRS)
    (outdir / "library.cmake").write_text(text)
    return sources
