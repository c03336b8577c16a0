"""`edgec report --html`: the page renders in headless Chromium, and what it shows equals report.json.

For every MLPerf Tiny int8 model (profiled on mps2-an386): the page's script finished
(``data-rendered="ok"``), each chart has its marks, laid out with a non-zero size, and every
number drawn (cards, bars, buffers, flash segments, table cells) is the report's. Chart geometry
is checked to be proportional to the numbers. A screenshot per model is kept under
build/test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import dump_dom, needs_chromium, parse, screenshot

from compiler.cli import main
from compiler.report_html import render_html

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "build" / "test-artifacts"
MLPERF_INT8 = ["kws_dscnn_int8", "vww_mbv1_int8", "resnet8_int8", "ad_fcae_int8"]


def test_page_is_self_contained() -> None:
    report = {"model": "m</script><b>.tflite", "target": "host", "layers": [], "flash_bytes": {}, "sram_bytes": {}}
    page = render_html(report)
    # nothing external: no URL-bearing attributes, no fetches; the embedded JSON cannot close its script element
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "fetch(" not in page and "XMLHttpRequest" not in page and "@import" not in page
    assert page.count("</script>") == 2
    assert "default-src 'none'" in page


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def _check_page(root, report: dict) -> None:
    body = root.find_all("body")[0]
    assert body.attrs["data-rendered"] == "ok", body.attrs["data-rendered"]
    for chart in ("instr-chart", "timeline", "flash"):
        w, h = (int(v) for v in root.by_id(chart).attrs["data-drawn"].split("x"))
        assert w > 100 and h > 50, (chart, w, h)
    layers = report["layers"]

    cards = {c.attrs["data-key"]: c.attrs["data-value"] for c in root.by_id("summary").find_all("div")
             if "card" in c.classes()}
    assert cards["instructions"] == str(report["instructions"])
    assert cards["macs"] == str(report["macs"])
    assert cards["flash"] == str(report["flash_bytes"]["total"])
    assert cards["sram"] == str(report["sram_bytes"]["total"])
    assert cards["arena"] == str(report["sram_bytes"]["arena"])
    assert cards["prediction"] == str(report["outputs"][0]["argmax"])

    bars = root.by_id("instr-chart").find_all("rect")
    assert [int(b.attrs["data-value"]) for b in bars] == [layer["instructions"] for layer in layers]
    top = max(range(len(layers)), key=lambda i: layers[i]["instructions"])
    top_width = float(bars[top].attrs["width"])
    for bar, layer in zip(bars, layers):
        assert _close(float(bar.attrs["width"]) / top_width, layer["instructions"] / layers[top]["instructions"])

    buffers = report["arena"]["buffers"]
    rects = root.by_id("timeline").find_all("rect", **{"class": "buffer"})
    drawn = [{k: int(r.attrs[f"data-{k}"]) for k in ("offset", "size", "first", "last")} for r in rects]
    assert drawn == [{k: b[k] for k in ("offset", "size", "first", "last")} for b in buffers]
    # one scale for all buffers: height per byte is constant, and the bottom edge falls linearly with the offset
    per_byte = [float(r.attrs["height"]) / b["size"] for r, b in zip(rects, buffers) if float(r.attrs["height"]) > 1]
    assert per_byte and all(_close(p, per_byte[0]) for p in per_byte)
    bottoms = [float(r.attrs["y"]) + float(r.attrs["height"]) + b["offset"] * per_byte[0] for r, b in zip(rects, buffers)
               if float(r.attrs["height"]) > 1]
    assert all(abs(x - bottoms[0]) < 0.01 for x in bottoms)
    occupancy = root.by_id("timeline").find_all("rect", **{"class": "occupancy"})
    assert [int(o.attrs["data-bytes"]) for o in occupancy] == [layer["arena_bytes"] for layer in layers]
    assert int(root.by_id("peak-line").attrs["data-step"]) == report["arena"]["peak_step"]

    segs = root.by_id("flash").find_all("rect")
    weights = [s for s in segs if s.attrs["data-kind"] == "weights"]
    code = [s for s in segs if s.attrs["data-kind"] == "code"]
    assert [int(s.attrs["data-bytes"]) for s in weights] == [layer["weight_bytes"] for layer in layers if layer["weight_bytes"]]
    assert sum(int(s.attrs["data-bytes"]) for s in weights) == report["flash_bytes"]["weights"]
    assert sum(int(s.attrs["data-bytes"]) for s in code) == report["flash_bytes"]["code"]
    total_width = sum(float(s.attrs["width"]) for s in segs)
    for s in segs:
        assert _close(float(s.attrs["width"]) / total_width, int(s.attrs["data-bytes"]) / report["flash_bytes"]["total"])

    rows = root.by_id("layers").find_all("tbody")[0].find_all("tr")
    assert len(rows) == len(layers)
    for row, layer in zip(rows, layers):
        cells = {c.attrs["data-key"]: c for c in row.find_all("td") if "data-key" in c.attrs}
        for key in ("macs", "weight_bytes", "arena_bytes", "instructions"):
            assert int(cells[key].attrs["data-value"]) == layer[key]
            assert cells[key].text == f"{layer[key]:,}", (key, cells[key].text)
        assert cells["op"].text == layer["op"] and cells["name"].attrs["title"] == layer["name"]
    assert "top" in rows[top].classes()
    assert "peak" in rows[report["arena"]["peak_step"]].classes()


@needs_chromium
@pytest.mark.parametrize("name", MLPERF_INT8)
def test_html_report_renders_the_numbers_of_report_json(name: str, profiled_run, tmp_path, capsys) -> None:
    result = profiled_run(name, "mps2-an386")
    project = Path(result.compiled.outdir)
    page = tmp_path / f"{name}.html"
    assert main(["report", str(project), "--html", str(page)]) == 0  # the CLI path a user takes
    assert f"{result.report['layers'][0]['instructions']:,}" in capsys.readouterr().out
    report = json.loads((project / "report.json").read_text())
    _check_page(parse(dump_dom(page)), report)
    screenshot(page, ARTIFACTS / f"report-{name}.png")


@needs_chromium
def test_unprofiled_report_renders_too(tmp_path) -> None:
    """A report from `edgec compile` (no instructions, no link): the page still draws, with MACs as bars."""
    project = tmp_path / "p"
    assert main(["compile", str(REPO / "examples" / "tiny_cnn" / "tiny_cnn.tflite"), "-o", str(project)]) == 0
    page = tmp_path / "tiny.html"
    assert main(["report", str(project), "--html", str(page)]) == 0
    root = parse(dump_dom(page))
    assert root.find_all("body")[0].attrs["data-rendered"] == "ok"
    report = json.loads((project / "report.json").read_text())
    bars = root.by_id("instr-chart").find_all("rect")
    assert [int(b.attrs["data-value"]) for b in bars] == [layer["macs"] for layer in report["layers"]]
    assert len(root.by_id("timeline").find_all("rect", **{"class": "buffer"})) == len(report["arena"]["buffers"])
