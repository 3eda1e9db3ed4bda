"""A small picture of an entity's neighbourhood, drawn on the server as SVG (no script,
no network): the entity in the middle, the resources it links to and from around it.

At most MAX_NODES are drawn, chosen by importance (people, characters, places and roles
before themes, plot events and summaries; see `view_model._KIND_RANKS`), with a share kept
for incoming links so the dashed lines the caption promises are there; what is left out is
said in the picture ("and N more") and listed in full in the tables of the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from filmld.view_model import Neighbour

WIDTH, HEIGHT = 640, 400
MAX_NODES = 20
INCOMING_SHARE = MAX_NODES // 4
"""Slots kept for incoming links when there are both kinds (unused ones go to the other)."""


@dataclass
class Selection:
    """What the picture draws, and how many neighbours it leaves out."""

    shown: list[Neighbour]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.shown)

    @property
    def draws_incoming(self) -> bool:
        return any(not n.outgoing for n in self.shown)


def choose(neighbours: list[Neighbour], limit: int = MAX_NODES) -> Selection:
    """The `limit` most important neighbours: outgoing ones first, incoming ones dashed."""
    def order(n: Neighbour) -> tuple:
        return (n.rank, n.link.text.lower())

    out = sorted((n for n in neighbours if n.outgoing), key=order)
    inc = sorted((n for n in neighbours if not n.outgoing), key=order)
    inc_slots = min(len(inc), max(min(INCOMING_SHARE, limit), limit - len(out)))
    out_slots = min(len(out), limit - inc_slots)
    inc_slots = min(len(inc), limit - out_slots)
    return Selection(out[:out_slots] + inc[:inc_slots], len(neighbours))


def _clip(text: str, size: int = 24) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def neighbourhood(title: str, selection: Selection) -> str:
    """SVG markup: outgoing links drawn solid, incoming ones dashed; each node is a link."""
    shown = selection.shown
    cx, cy = WIDTH / 2, HEIGHT / 2
    rx, ry = WIDTH / 2 - 110, HEIGHT / 2 - 40
    what = (f"{len(shown)} of {selection.total}" if selection.hidden
            else f"{len(shown)}")
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
              f'role="img" aria-labelledby="hood-title" class="hood">'),
             (f'<title id="hood-title">{escape(title)} and {what} linked resources'
              '</title>')]
    # Halo behind labels: paint-order as a style property (it is a CSS property; the
    # attribute form is not valid in HTML per the W3C Nu validator).
    halo = 'stroke="#fff" style="paint-order:stroke"'
    points = []
    for i, node in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(shown), 1)
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        points.append((x, y, node))
        dash = "" if node.outgoing else ' stroke-dasharray="5 4"'
        parts.append(f'<line x1="{cx:.0f}" y1="{cy:.0f}" x2="{x:.0f}" y2="{y:.0f}" '
                     f'stroke="#9aa5b1"{dash}/>')
    for x, y, node in points:
        anchor = "middle" if abs(x - cx) < 40 else ("start" if x > cx else "end")
        dx = 0 if anchor == "middle" else (9 if anchor == "start" else -9)
        dy = -10 if (anchor == "middle" and y < cy) else (18 if anchor == "middle" else 4)
        fill = "#1565c0" if node.outgoing else "#6a1b9a"
        parts.append(
            f'<a href="{escape(node.link.href or "")}"><circle cx="{x:.0f}" cy="{y:.0f}" '
            f'r="6" fill="{fill}"/><text x="{x + dx:.0f}" y="{y + dy:.0f}" '
            f'text-anchor="{anchor}" font-size="13" fill="#1f2933" stroke-width="3" {halo}>'
            f'{escape(_clip(node.link.text))}</text></a>')
    parts.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="10" fill="#c62828"/>')
    parts.append(f'<text x="{cx:.0f}" y="{cy + 28:.0f}" text-anchor="middle" font-size="15" '
                 f'font-weight="bold" fill="#1f2933" stroke-width="4" {halo}>'
                 f'{escape(_clip(title, 30))}</text>')
    if selection.hidden:
        parts.append(f'<text x="{WIDTH - 8}" y="{HEIGHT - 8}" text-anchor="end" '
                     f'font-size="13" fill="#5f6b7a" class="more">and {selection.hidden} '
                     'more, listed below</text>')
    parts.append("</svg>")
    return "".join(parts)
