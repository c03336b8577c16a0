"""Small float32 TFLite models written with the project's builder, for the quantizer's tests."""

from __future__ import annotations

import numpy as np

from compiler.modelbuilder import ModelBuilder


class FloatNet:
    """A float model under construction: each layer draws weights from a seeded generator."""

    def __init__(self, shape: tuple[int, ...], seed: int = 0) -> None:
        self.mb = ModelBuilder("edgec test float model")
        self.rng = np.random.default_rng(seed)
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.x = self._input(shape)

    def _input(self, shape: tuple[int, ...]) -> int:
        i = self.mb.input("input", shape, "float32")
        self.shapes[i] = shape
        return i

    def _out(self, name: str, shape: tuple[int, ...]) -> int:
        i = self.mb.tensor(name, shape, "float32")
        self.shapes[i] = shape
        return i

    def _w(self, name: str, shape: tuple[int, ...], gain: float = 1.0, channel_axis: int = 0) -> int:
        fan_in = int(np.prod(shape)) // shape[channel_axis]
        gains_shape = [1] * len(shape)
        gains_shape[channel_axis] = shape[channel_axis]
        gains = self.rng.uniform(0.1, 3.0, gains_shape)  # channel ranges differ: per-channel matters
        return self.mb.const(name, (self.rng.normal(0, 1, shape) * gains * gain / np.sqrt(fan_in)).astype(np.float32))

    def _b(self, name: str, n: int) -> int:
        return self.mb.const(name, self.rng.normal(0, 0.2, n).astype(np.float32))

    def conv(self, x: int, name: str, oc: int, k: int = 3, stride: int = 1, activation: str = "RELU") -> int:
        n, h, w, c = self.shapes[x]
        out = self._out(f"{name}/output", (n, -(-h // stride), -(-w // stride), oc))
        self.mb.op("CONV_2D", [x, self._w(f"{name}/w", (oc, k, k, c)), self._b(f"{name}/b", oc)], [out],
                   padding="SAME", stride=stride, activation=activation)
        return out

    def dw(self, x: int, name: str, stride: int = 1, activation: str = "RELU6") -> int:
        n, h, w, c = self.shapes[x]
        out = self._out(f"{name}/output", (n, -(-h // stride), -(-w // stride), c))
        self.mb.op("DEPTHWISE_CONV_2D", [x, self._w(f"{name}/w", (1, 3, 3, c), channel_axis=3), self._b(f"{name}/b", c)],
                   [out], padding="SAME", stride=stride, activation=activation)
        return out

    def fc(self, x: int, name: str, units: int, activation: str = "NONE") -> int:
        n, c = self.shapes[x]
        out = self._out(f"{name}/output", (n, units))
        self.mb.op("FULLY_CONNECTED", [x, self._w(f"{name}/w", (units, c)), self._b(f"{name}/b", units)], [out],
                   activation=activation)
        return out

    def add(self, a: int, b: int, name: str) -> int:
        out = self._out(f"{name}/output", self.shapes[a])
        self.mb.op("ADD", [a, b], [out])
        return out

    def mul_const(self, x: int, name: str, vec: np.ndarray) -> int:
        out = self._out(f"{name}/output", self.shapes[x])
        self.mb.op("MUL", [x, self.mb.const(f"{name}/c", vec.astype(np.float32))], [out])
        return out

    def add_const(self, x: int, name: str, vec: np.ndarray, activation: str = "NONE") -> int:
        out = self._out(f"{name}/output", self.shapes[x])
        self.mb.op("ADD", [x, self.mb.const(f"{name}/c", vec.astype(np.float32))], [out], activation=activation)
        return out

    def avgpool(self, x: int, name: str, k: int) -> int:
        n, h, w, c = self.shapes[x]
        out = self._out(f"{name}/output", (n, h // k, w // k, c))
        self.mb.op("AVERAGE_POOL_2D", [x], [out], filter_size=k, stride=k)
        return out

    def flatten(self, x: int, name: str) -> int:
        n = self.shapes[x][0]
        size = int(np.prod(self.shapes[x][1:]))
        out = self._out(f"{name}/output", (n, size))
        self.mb.op("RESHAPE", [x, self.mb.const(f"{name}/shape", np.array([n, size], np.int32))], [out])
        return out

    def softmax(self, x: int, name: str) -> int:
        out = self._out(f"{name}/output", self.shapes[x])
        self.mb.op("SOFTMAX", [x], [out], beta=1.0)
        return out

    def build(self, output: int) -> bytes:
        self.mb.output(output)
        return self.mb.build()


def small_cnn(seed: int = 0) -> bytes:
    """CONV(RELU) -> DW(RELU6) -> CONV 1x1 -> ADD residual -> AVG POOL -> RESHAPE -> FC -> SOFTMAX, on 1x8x8x3."""
    n = FloatNet((1, 8, 8, 3), seed)
    c1 = n.conv(n.x, "conv1", 8)
    d = n.dw(c1, "dw", stride=2)
    p = n.conv(d, "pw", 8, k=1, activation="NONE")
    r = n.add(d, p, "residual")
    flat = n.flatten(n.avgpool(r, "pool", 4), "flatten")
    return n.build(n.softmax(n.fc(flat, "fc", 10), "softmax"))


def conv_chain(seed: int = 0, join: str = "RELU") -> bytes:
    """CONV(join) -> CONV(RELU) -> CONV 1x1 on 1x6x6x4: equalization pairs joined by ``join``."""
    n = FloatNet((1, 6, 6, 4), seed)
    a = n.conv(n.x, "conv1", 6, activation=join)
    b = n.conv(a, "conv2", 5)
    return n.build(n.conv(b, "conv3", 3, k=1, activation="NONE"))


def conv_batchnorm(seed: int = 0) -> bytes:
    """CONV (no activation) -> MUL gamma -> ADD beta (RELU) -> FC: batch norm left as arithmetic."""
    n = FloatNet((1, 6, 6, 2), seed)
    c = n.conv(n.x, "conv", 4, activation="NONE")
    m = n.mul_const(c, "bn/mul", n.rng.uniform(0.5, 2.0, 4))
    a = n.add_const(m, "bn/add", n.rng.normal(0, 0.5, 4), activation="RELU")
    return n.build(n.fc(n.flatten(a, "flatten"), "fc", 3))


def litert_float_outputs(model: bytes, x: np.ndarray) -> np.ndarray:
    """The float model's first output in LiteRT's own float interpreter, sample by sample: the independent judge
    of the float function the quantizer calibrates."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    ys = []
    for xi in x:
        it.set_tensor(inp["index"], xi.reshape(inp["shape"]))
        it.invoke()
        ys.append(it.get_tensor(out["index"])[0])
    return np.array(ys)


def calibration(model_input: tuple[int, ...], samples: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (samples, *model_input[1:])).astype(np.float32)
