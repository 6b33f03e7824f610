"""Helpers shared by screen tests."""
from __future__ import annotations

import re


def screen_text(app) -> str:
    """Everything the screen shows, as plain text (from an SVG export)."""
    svg = app.export_screenshot()
    text = " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg))
    return re.sub(r"&#160;|&nbsp;", " ", re.sub(r"<[^>]+>", "", text))
