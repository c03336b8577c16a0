"""Train a small CNN on scikit-learn's bundled digits (8x8, no download) and write it as a FLOAT .tflite.

Dev-only: needs torch and scikit-learn (not edgec dependencies), e.g.
``python -m venv /tmp/t && /tmp/t/bin/pip install torch scikit-learn && /tmp/t/bin/pip install -e .``.

    python examples/digits/train.py            # writes digits_w1_float.tflite and digits_w2_float.tflite

The network (``w`` = width multiplier, channels 8w and 16w):
CONV_2D 3x3 (RELU) -> AVERAGE_POOL_2D 2x2 -> DEPTHWISE_CONV_2D 3x3 (RELU) -> CONV_2D 1x1 without
bias -> batch norm written as MUL and ADD (RELU) -> AVERAGE_POOL_2D 2x2 -> RESHAPE (NHWC order) -> FULLY_CONNECTED
10 -> SOFTMAX. The batch norm is left as arithmetic on purpose: it exercises edgec's folding repair.
Convolutions are stride 1 with odd kernels so torch's symmetric padding equals TFLite's SAME.
The data split (seeded) is written to digits_split.npz for the study script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from compiler.modelbuilder import ModelBuilder

HERE = Path(__file__).resolve().parent
SEED = 0


class DigitsNet(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        c1, c2 = 8 * width, 16 * width
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.dw = nn.Conv2d(c1, c1, 3, padding=1, groups=c1)
        self.pw = nn.Conv2d(c1, c2, 1, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.fc = nn.Linear(4 * c2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.avg_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.relu(self.bn(self.pw(torch.relu(self.dw(x)))))
        # NHWC flattening order, as TFLite's RESHAPE of an NHWC tensor reads it
        return self.fc(nn.functional.avg_pool2d(x, 2).permute(0, 2, 3, 1).flatten(1))


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits scaled to [0, 1] as NHWC float32, split 75/25 with a fixed seed."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    return train_test_split(x, digits.target.astype(np.int64), test_size=0.25, random_state=SEED,
                            stratify=digits.target)


def train(width: int, x: np.ndarray, y: np.ndarray, epochs: int = 60) -> DigitsNet:
    torch.manual_seed(SEED + width)
    net = DigitsNet(width)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt, yt = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xt)).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
        sched.step()
    return net.eval()


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float32)


def to_tflite(net: DigitsNet) -> bytes:
    """The trained network as a float32 TFLite model (NHWC, OHWI / 1HWC weights)."""
    mb = ModelBuilder("edgec digits example (float)")
    c1, c2 = net.conv1.out_channels, net.pw.out_channels
    x = mb.input("image", (1, 8, 8, 1), "float32")

    def tensor(name: str, shape: tuple[int, ...]) -> int:
        return mb.tensor(name, shape, "float32")

    w1 = mb.const("conv1/weights", _np(net.conv1.weight).transpose(0, 2, 3, 1))
    b1 = mb.const("conv1/bias", _np(net.conv1.bias))
    h1 = tensor("conv1/output", (1, 8, 8, c1))
    mb.op("CONV_2D", [x, w1, b1], [h1], padding="SAME", activation="RELU")
    p1 = tensor("pool1/output", (1, 4, 4, c1))
    mb.op("AVERAGE_POOL_2D", [h1], [p1], filter_size=2, stride=2)
    wd = mb.const("dw/weights", _np(net.dw.weight).transpose(1, 2, 3, 0))
    bd = mb.const("dw/bias", _np(net.dw.bias))
    h2 = tensor("dw/output", (1, 4, 4, c1))
    mb.op("DEPTHWISE_CONV_2D", [p1, wd, bd], [h2], padding="SAME", activation="RELU")
    wp = mb.const("pw/weights", _np(net.pw.weight).transpose(0, 2, 3, 1))
    bp = mb.const("pw/bias", np.zeros(c2, dtype=np.float32))  # TFLite's CONV_2D wants a bias tensor
    h3 = tensor("pw/output", (1, 4, 4, c2))
    mb.op("CONV_2D", [h2, wp, bp], [h3], padding="SAME")
    bn = net.bn
    gamma = _np(bn.weight / torch.sqrt(bn.running_var + bn.eps))
    beta = _np(bn.bias) - _np(bn.running_mean) * gamma
    g = mb.const("bn/scale", gamma)
    h4 = tensor("bn/scaled", (1, 4, 4, c2))
    mb.op("MUL", [h3, g], [h4])
    bt = mb.const("bn/offset", beta)
    h5 = tensor("bn/output", (1, 4, 4, c2))
    mb.op("ADD", [h4, bt], [h5], activation="RELU")
    p2 = tensor("pool2/output", (1, 2, 2, c2))
    mb.op("AVERAGE_POOL_2D", [h5], [p2], filter_size=2, stride=2)
    shape = mb.const("flatten/shape", np.array([1, 4 * c2], dtype=np.int32))
    flat = tensor("flatten/output", (1, 4 * c2))
    mb.op("RESHAPE", [p2, shape], [flat])
    wf = mb.const("fc/weights", _np(net.fc.weight))
    bf = mb.const("fc/bias", _np(net.fc.bias))
    logits = tensor("fc/output", (1, 10))
    mb.op("FULLY_CONNECTED", [flat, wf, bf], [logits])
    probs = tensor("probabilities", (1, 10))
    mb.op("SOFTMAX", [logits], [probs], beta=1.0)
    mb.output(probs)
    return mb.build()


def tflite_accuracy(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the float .tflite in LiteRT's interpreter: the file agrees with the trained network."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    hits = 0
    for xi, yi in zip(x, y):
        it.set_tensor(inp["index"], xi[None])
        it.invoke()
        hits += int(np.argmax(it.get_tensor(out["index"])) == yi)
    return hits / len(y)


def main() -> int:
    x_train, x_test, y_train, y_test = load_split()
    np.savez_compressed(HERE / "digits_split.npz", x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test)
    for width in (1, 2):
        net = train(width, x_train, y_train)
        with torch.no_grad():
            torch_acc = float((net(torch.from_numpy(x_test).permute(0, 3, 1, 2)).argmax(1).numpy() == y_test).mean())
        model = to_tflite(net)
        path = HERE / f"digits_w{width}_float.tflite"
        path.write_bytes(model)
        print(f"{path.name}: {len(model):,} bytes, test accuracy torch {100 * torch_acc:.2f}%, "
              f"tflite {100 * tflite_accuracy(model, x_test, y_test):.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
