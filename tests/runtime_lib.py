"""Builds runtime_c into a Python extension through cffi, once per source state, for kernel tests.

The library is compiled with -Wall -Wextra -Wshadow -Wconversion -Werror and UndefinedBehaviorSanitizer (abort on
the first report), so a kernel test also proves the kernel free of signed overflow, bad
shifts and misaligned or out-of-range pointer arithmetic on the shapes it runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import cffi

from compiler.resources import runtime_dir

_CACHE = Path(tempfile.gettempdir()) / "edgec-cffi-cache"

# The fixed-point helpers are static inline in C; these exported wrappers let tests call them.
_TEST_WRAPPERS = """
#include "edgec_nn.h"
#include "edgec_fixedpoint.h"
int32_t edgec_test_srdhm(int32_t a, int32_t b) { return edgec_srdhm(a, b); }
int32_t edgec_test_rdbpot(int32_t x, int32_t e) { return edgec_rounding_divide_by_pot(x, e); }
int32_t edgec_test_requantize(int32_t x, int32_t m, int32_t s) { return edgec_requantize(x, m, s); }
int32_t edgec_test_requantize_nonneg(int32_t x, int32_t m, int32_t s) { return edgec_requantize_nonneg(x, m, s); }
int32_t edgec_test_requantize_folded(int32_t x, int32_t m, int32_t s, int32_t offset)
{
    const edgec_rq_right q = edgec_rq_right_fold_offset(edgec_rq_right_make(m, s), offset);
    return edgec_requantize_right(x, &q);
}
"""
_TEST_CDEF = """
int32_t edgec_test_srdhm(int32_t a, int32_t b);
int32_t edgec_test_rdbpot(int32_t x, int32_t e);
int32_t edgec_test_requantize(int32_t x, int32_t m, int32_t s);
int32_t edgec_test_requantize_nonneg(int32_t x, int32_t m, int32_t s);
int32_t edgec_test_requantize_folded(int32_t x, int32_t m, int32_t s, int32_t offset);
"""


def _cdef(header: str) -> str:
    lines = [ln for ln in header.splitlines() if not ln.lstrip().startswith("#")]
    text = "\n".join(lines)
    text = re.sub(r'extern\s+"C"\s*\{', "", text)
    text = re.sub(r"^\}\s*$", "", text, flags=re.MULTILINE)
    return text


# -Wshadow -Wconversion as in the generated Makefile; UBSan aborts on the first report.
_CFLAGS = ["-O1", "-std=c99", "-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Werror", "-fsanitize=undefined",
           "-fno-sanitize-recover=all"]


def build_extension(prefix: str, cdef: str, source: str, *, sources: list[Path] = (), inputs: list[Path] = ()):
    """Compile (once per content of ``source``, ``sources`` and ``inputs``) and load a cffi module; (ffi, lib)."""
    include = runtime_dir() / "include"
    digest = hashlib.sha256((cdef + source).encode())
    for path in [*inputs, *sources]:
        digest.update(path.read_bytes())
    name = f"{prefix}_{digest.hexdigest()[:16]}"
    build_dir = _CACHE / name
    build_dir.mkdir(parents=True, exist_ok=True)
    built = list(build_dir.glob(f"{name}*.so"))
    if not built:
        ffi = cffi.FFI()
        ffi.cdef(cdef)
        ffi.set_source(name, source, sources=[str(s) for s in sources], include_dirs=[str(include)],
                       extra_compile_args=_CFLAGS, extra_link_args=["-fsanitize=undefined"])
        ffi.compile(tmpdir=str(build_dir), verbose=False)
        built = list(build_dir.glob(f"{name}*.so"))
    spec = importlib.util.spec_from_file_location(name, built[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.ffi, module.lib


def runtime_headers() -> list[Path]:
    """Every header of the runtime (public and internal): a change to any of them rebuilds."""
    root = runtime_dir()
    return sorted((root / "include").rglob("*.h")) + sorted((root / "src").rglob("*.h"))


@lru_cache(maxsize=1)
def load_runtime():  # -> (ffi, lib)
    """The whole runtime_c plus the fixed-point test wrappers."""
    root = runtime_dir()
    cdef = _cdef((root / "include" / "edgec_nn.h").read_text()) + _TEST_CDEF
    return build_extension("_edgec_rt", cdef, _TEST_WRAPPERS, sources=sorted((root / "src").rglob("*.c")),
                           inputs=runtime_headers())
