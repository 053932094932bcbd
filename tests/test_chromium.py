"""The headless Chromium harness (tests/chromium.py) sees what a browser's console would show,
draws plotly charts, and writes screenshots of the requested size."""

from __future__ import annotations

import struct

import pytest
from chromium import render, screenshot

pytestmark = pytest.mark.usefixtures("chromium")


def page(tmp_path, body: str, name: str = "page.html"):
    path = tmp_path / name
    path.write_text(f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("script, expected", [
    ('throw new Error("boom");', "Uncaught Error: boom"),
    ('console.error("bad");', "console.error: bad"),
    ('Promise.reject(new Error("refused"));', "Uncaught (in promise) Error: refused"),
    ('setTimeout(() => { throw new Error("later"); }, 50);', "Uncaught Error: later"),
    ('console.assert(1 === 2, "arithmetic");', "console.assert: arithmetic"),
    # The page never reaches the network: every host name fails to resolve, even for a caught fetch.
    ('fetch("https://example.com/data.json").catch(() => {});',
     "net::ERR_NAME_NOT_RESOLVED (https://example.com/data.json)"),
])
def test_errors_are_reported(tmp_path, script, expected):
    errors = render(page(tmp_path, f"<script>{script}</script>")).errors
    assert len(errors) == 1 and expected in errors[0], errors


def test_missing_resource_is_reported(tmp_path):
    errors = render(page(tmp_path, '<script src="absent.js"></script>')).errors
    assert errors == [f"Failed to load resource: net::ERR_FILE_NOT_FOUND ({(tmp_path / 'absent.js').as_uri()})"]


def test_clean_page_has_no_errors_and_the_dom_after_its_scripts(tmp_path):
    rendered = render(page(tmp_path, '<p id="out"></p><script>console.log("fine"); console.warn("only a warning");'
                                     'document.getElementById("out").textContent = ["written", "by", "script"]'
                                     '.join(" ");</script>'))
    assert rendered.errors == []
    assert '<p id="out">written by script</p>' in rendered.dom


def test_plotly_chart_is_drawn_without_errors(tmp_path):
    from plotly.offline import get_plotlyjs

    body = (f"<script>{get_plotlyjs()}</script><div id=\"chart\"></div><script>"
            'Plotly.newPlot("chart", [{x: [1, 2, 3], y: [3, 1, 2], type: "scatter"}]);</script>')
    rendered = render(page(tmp_path, body))
    assert rendered.errors == []
    assert '<svg class="main-svg"' in rendered.dom and 'class="scatterlayer' in rendered.dom


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("width, height, expected", [(640, 480, (640, 480)), (1400, None, (1400, 3000))])
def test_screenshot_is_a_png_of_the_requested_size(tmp_path, width, height, expected):
    html = page(tmp_path, '<div style="height: 3000px; background: teal"></div>'
                          '<style>body { margin: 0 }</style>')
    png = tmp_path / "page.png"
    rendered = screenshot(html, png, width=width, height=height)
    assert rendered.errors == []
    assert png_size(png) == expected


def test_a_page_that_never_loads_times_out(tmp_path):
    with pytest.raises(TimeoutError):
        render(page(tmp_path, "<script>while (true) {}</script>"), timeout=2)
