"""Headless Chromium for tests: load a local page, return the DOM after its scripts ran, save a screenshot.

Chromium runs with a fresh profile and everything that could reach the network switched off
(the page is self-contained, and the test wants to know if it is not).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--hide-scrollbars"]

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (bash toolchains/install.sh)")


def _chromium(page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="edgec-chromium-") as profile:
        cmd = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def dump_dom(page: Path) -> str:
    """The page's DOM serialised after load (its inline scripts have run)."""
    return _chromium(page, "--dump-dom").stdout


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 2600) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    _chromium(page, f"--window-size={width},{height}", f"--screenshot={png.resolve()}")
    assert png.is_file() and png.stat().st_size > 10_000, "the screenshot is missing or blank"
    return png


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""
        self.children: list[Element] = []

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(child.attrs.get(k.replace("_", "-")) == v
                                                         for k, v in attrs.items()):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found

    def by_id(self, ident: str) -> Element:
        hits = self.find_all(id=ident)
        assert len(hits) == 1, f"expected one element with id {ident!r}, found {len(hits)}"
        return hits[0]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


_VOID = {"meta", "link", "br", "img", "input", "hr"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for node in self.stack[1:]:
            node.text += data


def parse(dom: str) -> Element:
    tree = _Tree()
    tree.feed(dom)
    return tree.root
