"""The tablet tests' parts: Debian's Chromium driven by Playwright on a touch tablet's
viewport, and a finger and a mouse drawing on the signature pad."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, CDPSession, FloatRect, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
#: What works here: no sandbox (containers), no GPU, nothing fetched from the internet.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A 10-inch tablet held sideways.
TABLET = {"width": 1024, "height": 768}


@contextmanager
def tablet_browser(folder: Path) -> Iterator[BrowserContext]:
    """A real Chromium on a 1024x768 touch screen, with a new empty profile in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(folder),
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport=TABLET,
            has_touch=True,
            is_mobile=False,
            locale="en-US",
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


def _wave(
    left: float, top: float, width: float, height: float, seed: int
) -> list[list[tuple[float, float]]]:
    """Three strokes that wander like handwriting, inside the given box."""
    strokes = []
    for stroke in range(3):
        start = left + width * (0.08 + 0.3 * stroke)
        strokes.append(
            [
                (
                    start + step * width * 0.0045,
                    top + height * (0.5 + 0.3 * math.sin((step + seed * 5) / (3 + stroke))),
                )
                for step in range(45)
            ]
        )
    return strokes


def _on_screen(page: Page, selector: str) -> FloatRect:
    """The element's box in the viewport, scrolled into view (input lands on the screen)."""
    element = page.locator(selector)
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box is not None
    return box


def _touch(cdp: CDPSession, kind: str, points: list[tuple[float, float]]) -> None:
    touch_points = [{"x": x, "y": y} for x, y in points]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touch_points})


def finger_signature(page: Page, selector: str, seed: int = 1) -> None:
    """Sign with a finger: real touch input (touchstart, touchmove, touchend) from the
    browser's input layer, which the page receives as pointer events of a touch."""
    box = _on_screen(page, selector)
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in _wave(box["x"], box["y"], box["width"], box["height"], seed):
            x, y = stroke[0]
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]},
            )
            for x, y in stroke[1:]:
                cdp.send(
                    "Input.dispatchTouchEvent",
                    {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]},
                )
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def mouse_signature(page: Page, selector: str, seed: int = 2) -> None:
    """Sign with the mouse: pointer events of a mouse."""
    box = _on_screen(page, selector)
    for stroke in _wave(box["x"], box["y"], box["width"], box["height"], seed):
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
