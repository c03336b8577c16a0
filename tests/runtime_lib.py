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
"""
_TEST_CDEF = """
int32_t edgec_test_srdhm(int32_t a, int32_t b);
int32_t edgec_test_rdbpot(int32_t x, int32_t e);
int32_t edgec_test_requantize(int32_t x, int32_t m, int32_t s);
"""


def _cdef(header: str) -> str:
    lines = [ln for ln in header.splitlines() if not ln.lstrip().startswith("#")]
    text = "\n".join(lines)
    text = re.sub(r'extern\s+"C"\s*\{', "", text)
    text = re.sub(r"^\}\s*$", "", text, flags=re.MULTILINE)
    return text


@lru_cache(maxsize=1)
def load_runtime():  # -> (ffi, lib)
    root = runtime_dir()
    include = root / "include"
    sources = sorted((root / "src").rglob("*.c"))
    digest = hashlib.sha256()
    headers = sorted(include.rglob("*.h")) + sorted((root / "src").rglob("*.h"))
    for path in [*headers, *sources]:
        digest.update(path.read_bytes())
    name = f"_edgec_rt_{digest.hexdigest()[:16]}"
    build_dir = _CACHE / name
    build_dir.mkdir(parents=True, exist_ok=True)
    built = list(build_dir.glob(f"{name}*.so"))
    if not built:
        ffi = cffi.FFI()
        ffi.cdef(_cdef((include / "edgec_nn.h").read_text()) + _TEST_CDEF)
        ffi.set_source(
            name,
            _TEST_WRAPPERS,
            sources=[str(s) for s in sources],
            include_dirs=[str(include)],
            extra_compile_args=["-O1", "-std=c99", "-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Werror", "-fsanitize=undefined",
                                "-fno-sanitize-recover=all"],
            extra_link_args=["-fsanitize=undefined"],
        )
        ffi.compile(tmpdir=str(build_dir), verbose=False)
        built = list(build_dir.glob(f"{name}*.so"))
    spec = importlib.util.spec_from_file_location(name, built[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.ffi, module.lib
