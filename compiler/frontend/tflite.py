"""Read a .tflite flatbuffer into a Graph through the schema's generated object API.

The generated module ships with ai-edge-litert (``ai_edge_litert.schema_py_generated``); no
byte is decoded by hand. Options are normalised to plain Python values with names shared by
every lowering (padding "SAME"/"VALID", stride (h, w), dilation (h, w), filter (h, w),
activation name, ...). Only the first subgraph is read: control-flow ops that call other
subgraphs are reported unsupported by the support checks, not here.
"""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from ..errors import ModelFileError
from ..graph import Graph, Operator, QuantParams, Tensor
from ..int4 import packed_size, unpack_int4
from .flatbuffer_verify import FlatbufferError, verify_tflite
from .validate import validate


def _enum_names(cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


_OP_NAMES = _enum_names(schema.BuiltinOperator)
_TENSOR_TYPES = _enum_names(schema.TensorType)
_ACTIVATIONS = _enum_names(schema.ActivationFunctionType)
_PADDINGS = _enum_names(schema.Padding)

# numpy dtype of each TFLite tensor type the compiler can hold as data.
_DTYPES = {
    "FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64", "INT32": "int32", "UINT8": "uint8",
    "INT64": "int64", "BOOL": "bool", "INT16": "int16", "INT8": "int8", "UINT32": "uint32", "UINT16": "uint16",
    "INT4": "int4",  # held unpacked, one int8 per value in [-8, 7] (see _unpack_int4)
}

MAX_TENSOR_ELEMENTS = 1 << 28  # guards shape arithmetic against absurd files

# What decoding malformed data can raise (the generated parser, numpy, strings); the reader turns
# each into ModelFileError. Errors of edgec's own making (InternalError and the like) pass through.
_DECODE_ERRORS = (struct.error, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError,
                  MemoryError, RecursionError, UnicodeError)


def read_tflite(source: str | Path | bytes) -> Graph:
    """Parse a TFLite model from a path or its bytes; raises ModelFileError naming the step that failed."""
    if isinstance(source, (bytes, bytearray)):
        path, buf = "<bytes>", bytes(source)
    else:
        path = str(source)
        try:
            buf = Path(source).read_bytes()
        except OSError as exc:
            raise ModelFileError(path, "open", exc.strerror or str(exc)) from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelFileError(path, "identify", "not a TFLite flatbuffer (file identifier 'TFL3' missing)")
    try:
        verify_tflite(buf)
    except FlatbufferError as exc:
        raise ModelFileError(path, "verify flatbuffer", str(exc)) from None
    try:
        model = schema.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as exc:  # noqa: BLE001 - the generated parser raises whatever struct/IndexError it meets
        raise ModelFileError(path, "parse flatbuffer", f"{type(exc).__name__}: {exc}") from None
    if not model.subgraphs:
        raise ModelFileError(path, "read subgraphs", "the model has no subgraph")
    name = Path(path).stem if path != "<bytes>" else "model"
    try:
        graph = _graph(model, buf, path, name)
    except ModelFileError:
        raise
    except _DECODE_ERRORS as exc:
        raise ModelFileError(path, "read graph", f"malformed contents ({type(exc).__name__}: {exc})") from None
    validate(graph, path)
    return graph


def _graph(model: Any, buf: bytes, path: str, name: str) -> Graph:
    sub = model.subgraphs[0]
    if sub is None:
        raise ModelFileError(path, "read subgraphs", "the first subgraph is empty")
    op_codes = [_op_name(code) for code in (model.operatorCodes or [])]
    buffers = model.buffers or []
    tensors = tuple(_tensor(i, t, buffers, buf, path) for i, t in enumerate(sub.tensors or []))
    n = len(tensors)

    def indices(values: Any, what: str, allow_absent: bool = False) -> tuple[int, ...]:
        out = tuple(int(v) for v in (values if values is not None else []))
        for v in out:
            if not (0 <= v < n or (allow_absent and v == -1)):
                raise ModelFileError(path, what, f"tensor index {v} out of range (the subgraph has {n} tensors)")
        return out

    operators = []
    for i, op in enumerate(sub.operators or []):
        if op is None:
            raise ModelFileError(path, f"read operator #{i}", "the operator table is missing")
        if not 0 <= op.opcodeIndex < len(op_codes):
            raise ModelFileError(path, f"read operator #{i}", f"opcode index {op.opcodeIndex} out of range")
        op_name = op_codes[op.opcodeIndex]
        operators.append(Operator(
            index=i,
            op=op_name,
            inputs=indices(op.inputs, f"read operator #{i} inputs", allow_absent=True),
            outputs=indices(op.outputs, f"read operator #{i} outputs"),
            options=_options(op_name, op.builtinOptions),
        ))
    return Graph(
        name=name,
        tensors=tensors,
        operators=tuple(operators),
        inputs=indices(sub.inputs, "read subgraph inputs"),
        outputs=indices(sub.outputs, "read subgraph outputs"),
        sha256=hashlib.sha256(buf).hexdigest(),
    )


def _op_name(code: Any) -> str:
    if code is None:
        return "BUILTIN_MISSING"
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = (code.customCode.decode("utf-8", "replace") if isinstance(code.customCode, bytes)
                  else str(code.customCode))
        return f"CUSTOM:{custom}"
    return _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")


def _tensor(index: int, t: Any, buffers: list, buf: bytes, path: str) -> Tensor:
    if t is None:
        raise ModelFileError(path, f"read tensor #{index}", "the tensor table is missing")
    name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or f"tensor_{index}")
    type_name = _TENSOR_TYPES.get(int(t.type), f"TYPE_{t.type}")
    dtype = _DTYPES.get(type_name, type_name.lower())
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape):
        raise ModelFileError(path, f"read tensor #{index} {name!r}", f"shape {list(shape)} has a negative dimension")
    if math.prod(shape) > MAX_TENSOR_ELEMENTS:  # Python integers: no int64 wrap-around on absurd shapes
        raise ModelFileError(path, f"read tensor #{index} {name!r}",
                             f"shape {list(shape)} is larger than edgec accepts")
    quant = None
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        zps = q.zeroPoint if q.zeroPoint is not None else [0] * len(q.scale)  # lengths checked by validate
        quant = QuantParams(
            scale=tuple(float(np.float32(s)) for s in q.scale),
            zero_point=tuple(int(z) for z in zps),
            axis=int(q.quantizedDimension),
        )
    data = _buffer_data(t, buffers, buf, path, name, dtype, shape)
    return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, data=data)


def _buffer_data(t: Any, buffers: list, buf: bytes, path: str, name: str, dtype: str,
                 shape: tuple[int, ...]) -> np.ndarray | None:
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ModelFileError(path, f"read tensor {name!r}", f"buffer index {t.buffer} out of range")
    if t.buffer == 0 or not buffers:
        return None
    b = buffers[t.buffer]
    if b is None:
        return None
    if b.data is not None and len(b.data) > 0:
        raw = np.asarray(b.data, dtype=np.uint8).tobytes()
    elif b.offset and b.offset > 1:
        if b.offset < 0 or b.size < 0 or b.offset + b.size > len(buf):
            raise ModelFileError(path, f"read tensor {name!r}", "buffer lies beyond the end of the file")
        raw = buf[b.offset:b.offset + b.size]
    else:
        return None
    if dtype == "int4":
        return _unpack_int4(raw, shape, path, name)
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        raise ModelFileError(path, f"read tensor {name!r}", f"constant of type {dtype} cannot be read") from None
    count = math.prod(shape)
    if len(raw) != count * np_dtype.itemsize:
        raise ModelFileError(path, f"read tensor {name!r}",
                             f"buffer holds {len(raw)} bytes, shape {list(shape)} of {dtype} needs "
                             f"{count * np_dtype.itemsize}")
    array = np.frombuffer(raw, dtype=np_dtype).reshape(shape).copy()
    array.setflags(write=False)
    return array


def _unpack_int4(raw: bytes, shape: tuple[int, ...], path: str, name: str) -> np.ndarray:
    """An INT4 constant as int8 values (see compiler.int4 for the packing)."""
    if len(raw) != packed_size(math.prod(shape)):
        raise ModelFileError(path, f"read tensor {name!r}", f"buffer holds {len(raw)} bytes, shape {list(shape)} "
                             f"of int4 needs {packed_size(math.prod(shape))}")
    array = unpack_int4(raw, shape)
    array.setflags(write=False)
    return array


def _hw(h: Any, w: Any) -> tuple[int, int]:
    return int(h), int(w)


def _options(op_name: str, opts: Any) -> dict[str, Any]:
    """Normalise the builtin options object of one operator into plain values."""
    if opts is None:
        return {}
    out: dict[str, Any] = {}
    if hasattr(opts, "fusedActivationFunction"):
        out["activation"] = _ACTIVATIONS.get(int(opts.fusedActivationFunction), str(opts.fusedActivationFunction))
    if hasattr(opts, "padding"):
        out["padding"] = _PADDINGS.get(int(opts.padding), str(opts.padding))
    if hasattr(opts, "strideH"):
        out["stride"] = _hw(opts.strideH, opts.strideW)
    if hasattr(opts, "dilationHFactor"):
        out["dilation"] = _hw(opts.dilationHFactor, opts.dilationWFactor)
    if hasattr(opts, "filterHeight"):
        out["filter"] = _hw(opts.filterHeight, opts.filterWidth)
    if hasattr(opts, "depthMultiplier"):
        out["depth_multiplier"] = int(opts.depthMultiplier)
    if hasattr(opts, "keepNumDims"):
        out["keep_num_dims"] = bool(opts.keepNumDims)
    if hasattr(opts, "weightsFormat"):
        out["weights_format"] = "DEFAULT" if int(opts.weightsFormat) == 0 else f"FORMAT_{opts.weightsFormat}"
    if hasattr(opts, "asymmetricQuantizeInputs"):
        out["asymmetric_quantize_inputs"] = bool(opts.asymmetricQuantizeInputs)
    if hasattr(opts, "newShape"):
        out["new_shape"] = tuple(int(d) for d in opts.newShape) if opts.newShape is not None else None
    if hasattr(opts, "beta"):
        out["beta"] = float(np.float32(opts.beta))
    if hasattr(opts, "potScaleInt16"):
        out["pot_scale_int16"] = bool(opts.potScaleInt16)
    if hasattr(opts, "alpha"):
        out["alpha"] = float(np.float32(opts.alpha))
    out.update(_shape_options(opts))
    return out


_INT_OPTIONS = {  # schema field -> option name, for the shape and data-movement ops
    "keepDims": "keep_dims", "axis": "axis", "beginMask": "begin_mask", "endMask": "end_mask",
    "ellipsisMask": "ellipsis_mask", "newAxisMask": "new_axis_mask", "shrinkAxisMask": "shrink_axis_mask",
    "offset": "offset", "numSplits": "num_splits", "valuesCount": "values_count",
}


def _shape_options(opts: Any) -> dict[str, Any]:
    """Options of MEAN, CONCATENATION, STRIDED_SLICE, SQUEEZE, SPLIT(_V) and PACK as plain ints/tuples."""
    out: dict[str, Any] = {}
    for field, name in _INT_OPTIONS.items():
        if hasattr(opts, field):
            value = getattr(opts, field)
            out[name] = bool(value) if field in ("keepDims", "offset") else int(value)
    if hasattr(opts, "squeezeDims"):
        out["squeeze_dims"] = tuple(int(d) for d in opts.squeezeDims) if opts.squeezeDims is not None else ()
    return out
