"""A small picture of an entity's neighbourhood, drawn on the server as SVG (no script,
no network): the entity in the middle, the resources it links to and from around it."""

from __future__ import annotations

import math
from html import escape

from filmld.view_model import Link

WIDTH, HEIGHT = 640, 400
MAX_NODES = 16


def _clip(text: str, size: int = 24) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def neighbourhood(title: str, neighbours: list[tuple[Link, bool]]) -> str:
    """SVG markup: outgoing links drawn solid, incoming ones dashed; each node is a link."""
    shown = neighbours[:MAX_NODES]
    cx, cy = WIDTH / 2, HEIGHT / 2
    rx, ry = WIDTH / 2 - 110, HEIGHT / 2 - 40
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
              f'role="img" aria-labelledby="hood-title" class="hood">'),
             (f'<title id="hood-title">{escape(title)} and {len(shown)} linked resources'
              '</title>')]
    points = []
    for i, (node, outgoing) in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(shown), 1)
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        points.append((x, y, node, outgoing))
        dash = "" if outgoing else ' stroke-dasharray="5 4"'
        parts.append(f'<line x1="{cx:.0f}" y1="{cy:.0f}" x2="{x:.0f}" y2="{y:.0f}" '
                     f'stroke="#9aa5b1"{dash}/>')
    for x, y, node, outgoing in points:
        anchor = "middle" if abs(x - cx) < 40 else ("start" if x > cx else "end")
        dx = 0 if anchor == "middle" else (9 if anchor == "start" else -9)
        dy = -10 if (anchor == "middle" and y < cy) else (18 if anchor == "middle" else 4)
        fill = "#1565c0" if outgoing else "#6a1b9a"
        parts.append(
            f'<a href="{escape(node.href or "")}"><circle cx="{x:.0f}" cy="{y:.0f}" r="6" '
            f'fill="{fill}"/><text x="{x + dx:.0f}" y="{y + dy:.0f}" text-anchor="{anchor}" '
            f'font-size="13" fill="#1f2933" stroke="#fff" stroke-width="3" paint-order="stroke">'
            f'{escape(_clip(node.text))}</text></a>')
    parts.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="10" fill="#c62828"/>')
    parts.append(f'<text x="{cx:.0f}" y="{cy + 28:.0f}" text-anchor="middle" font-size="15" '
                 f'font-weight="bold" fill="#1f2933" stroke="#fff" stroke-width="4" '
                 f'paint-order="stroke">{escape(_clip(title, 30))}</text>')
    parts.append("</svg>")
    return "".join(parts)
