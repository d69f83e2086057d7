"""A bubble chart on log-log axes, as a list of drawing primitives rendered to SVG (by hand, no
dependencies) or PNG (Pillow). Canziani et al. 2017 draw accuracy against operations with bubble
size by parameters; cnndsl has no accuracies, so it draws parameters against operations with
bubble area by activation memory.

Legibility: bubbles are drawn largest first, translucent, with a darker outline and a centre dot,
so a small bubble inside a large one stays visible; labels are placed by `labels.place_labels`
(no overlaps; a leader line where a label had to move away); a label that fits nowhere becomes a
number, explained in a footnote. Points at the same position share one label."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .labels import BASELINE, HEIGHT, Box, Bubble, place_labels, text_width

# Tableau 10, then its light partners (Tableau 20), so that up to 20 families get distinct colours
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2",
           "#d7b5a6", "#79706e"]
LABEL_PX = 12
FILL_OPACITY = 0.45


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    size: float  # bubble area is proportional to it
    group: str = ""  # points of one group share a colour (a network family)


@dataclass
class Scene:
    width: int
    height: int
    items: list[tuple] = field(default_factory=list)
    # ("line", x1, y1, x2, y2, colour, width)
    # ("circle", cx, cy, r, fill, fill_opacity, stroke, stroke_width, role)   role: bubble|dot|legend
    # ("text", x, y, text, anchor: start|middle|end, px, colour, halo: bool)


# ---- axes -------------------------------------------------------------------------------------

def _nice_range(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Log-axis limits a little beyond [lo, hi], snapped to 1-2-5 values, and the tick values:
    1-2-5 steps for a range of up to about three decades, decades beyond that."""
    a, b = math.log10(lo), math.log10(hi)
    pad = max(0.08 * (b - a), 0.12)
    a, b = a - pad, b + pad
    steps = (1, 2, 5) if b - a <= 3.2 else (1,)
    values = [m * 10.0 ** e for e in range(math.floor(a) - 1, math.ceil(b) + 2) for m in steps]
    low = max(v for v in values if math.log10(v) <= a + 1e-9)
    high = min(v for v in values if math.log10(v) >= b - 1e-9)
    return low, high, [v for v in values if low <= v <= high]


def _tick(v: float) -> str:
    for p, name in ((12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if v >= 10 ** p:
            return f"{v / 10 ** p:g}{name}"
    return f"{v:g}"


# ---- colours ----------------------------------------------------------------------------------

def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _darker(colour: str, f: float = 0.65) -> str:
    return "#" + "".join(f"{int(c * f):02x}" for c in _rgb(colour))


def _colours(points: list[Point]) -> dict[str, str]:
    groups = sorted({p.group or p.label for p in points})
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}


# ---- the chart --------------------------------------------------------------------------------

def _size_legend(biggest: float, smallest: float, radius, size_label, size_title: str):
    """Reference bubbles of round sizes: the largest 1-2-5 value not above the biggest bubble and,
    when the data spans it, one a decade smaller. Returns (width, height, draw(x0, y0) -> items)."""
    top = max(m * 10.0 ** e for e in range(math.floor(math.log10(biggest)) - 1, math.floor(math.log10(biggest)) + 1)
              for m in (1, 2, 5) if m * 10.0 ** e <= biggest)
    refs = [top] + ([top / 10] if top / 10 >= smallest else [])
    texts = [size_label(v) for v in refs]
    rmax = radius(refs[0])
    row = sum(2 * radius(v) + 6 + text_width(t, 11) + 12 for v, t in zip(refs, texts))
    width, height = max(row, text_width(size_title, 11)) + 12, 26 + 2 * rmax

    def draw(x0: float, y0: float) -> list[tuple[Any, ...]]:
        items: list[tuple[Any, ...]] = [("text", x0 + 6, y0 + 15, size_title, "start", 11, "#444", False)]
        x, base = x0 + 6, y0 + 20 + 2 * rmax  # reference bubbles stand on one baseline
        for v, t in zip(refs, texts):
            r = radius(v)
            items.append(("circle", x + r, base - r, r, "#bbbbbb", FILL_OPACITY, "#888888", 1, "legend"))
            items.append(("text", x + 2 * r + 5, base - r + 4, t, "start", 11, "#444", False))
            x += 2 * r + 6 + text_width(t, 11) + 12
        return items
    return width, height, draw


def _largest_radius(centres: list[tuple[float, float, float]], rmax: float) -> float:
    """The radius of the biggest bubble: `rmax`, shrunk (to half at most) while more than a quarter
    of the bubbles have their centre inside a larger one; `centres` are (x, y, radius / rmax).
    Coincident bubbles do not count: no scale separates them."""
    def buried(r: float) -> int:
        return sum(any(1.5 < math.hypot(x - X, y - Y) < R * r for X, Y, R in centres if f < R)
                   for x, y, f in centres)
    scale = 1.0
    while scale > 0.5 and buried(rmax * scale) > len(centres) / 4:
        scale *= 0.85
    return rmax * max(scale, 0.5)


def _merge_coincident(pts: list[tuple[float, float, float, Point]]):
    """Group points drawn at the same place (within a pixel, e.g. VGG-16 with and without batch
    norm have the same MACs and nearly the same parameters): they get one label."""
    groups: list[list[tuple[float, float, float, Point]]] = []
    for item in pts:
        for g in groups:
            if math.hypot(g[0][0] - item[0], g[0][1] - item[1]) < 1.5:
                g.append(item)
                break
        else:
            groups.append([item])
    return groups


def _wrap(words: list[str], px: float, width: float) -> list[str]:
    lines, line = [], ""
    for w in words:
        if line and text_width(line + "   " + w, px) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line}   {w}" if line else w
    return lines + ([line] if line else [])


def bubble_chart(points: list[Point], title: str, x_label: str, y_label: str, size_label,
                 width: int = 880, height: int = 600, size_title: str = "bubble area") -> Scene:
    """`size_label(v)` names a bubble size for the legend, e.g. "10 MB"; `size_title` says what
    bubble area stands for. `height` is that of the chart without its footnote, if any.

    Labels near the top or right edge may find no room; then the axes are extended there, a
    quarter of a decade at a time, and the layout that leaves fewest labels as numbers wins."""
    best: tuple[Scene, tuple[int, int]] | None = None
    for widen in range(3):
        scene, stand_ins = _draw(points, title, x_label, y_label, size_label, width, height, size_title, widen)
        if best is None or stand_ins < best[1]:
            best = (scene, stand_ins)
        if not any(stand_ins):
            break
    assert best is not None
    return best[0]


def _draw(points: list[Point], title: str, x_label: str, y_label: str, size_label, width: int, height: int,
          size_title: str, widen: int) -> tuple[Scene, tuple[int, int]]:
    """The chart, and how many labels it left out and replaced by numbers."""
    left, right, top, bottom = 78, 24, 56, 62
    plot = Box(left, top, width - right, height - bottom)
    more = 10 ** (0.25 * widen)
    x_lo, x_hi, x_ticks = _nice_range(min(p.x for p in points), max(p.x for p in points) * more)
    y_lo, y_hi, y_ticks = _nice_range(min(p.y for p in points), max(p.y for p in points) * more)
    px = lambda v: plot.x0 + math.log10(v / x_lo) / math.log10(x_hi / x_lo) * (plot.x1 - plot.x0)  # noqa: E731
    py = lambda v: plot.y1 - math.log10(v / y_lo) / math.log10(y_hi / y_lo) * (plot.y1 - plot.y0)  # noqa: E731

    items = [("text", width / 2, 28, title, "middle", 17, "#222", False)]
    items += _axes(plot, [(px(v), _tick(v)) for v in x_ticks], [(py(v), _tick(v)) for v in y_ticks], x_label, y_label)
    biggest = max(p.size for p in points)
    rmax = _largest_radius([(px(p.x), py(p.y), math.sqrt(p.size / biggest) if biggest > 0 else 0) for p in points],
                           min(plot.x1 - plot.x0, plot.y1 - plot.y0) / 17)
    radius = lambda size: max(3.0, rmax * math.sqrt(size / biggest)) if biggest > 0 else 3.0  # noqa: E731
    pts = sorted(((px(p.x), py(p.y), radius(p.size), p) for p in points), key=lambda t: -t[2])
    items += _bubbles(pts, _colours(points))

    inner = Box(plot.x0 + 2, plot.y0 + 2, plot.x1 - 2, plot.y1 - 2)
    obstacles, below = [], height
    if biggest > 0:
        lw, lh, draw_legend = _size_legend(biggest, min(p.size for p in points if p.size > 0), radius, size_label,
                                           size_title)
        corners = [Box(inner.x0, inner.y0, inner.x0 + lw, inner.y0 + lh),
                   Box(inner.x1 - lw, inner.y1 - lh, inner.x1, inner.y1),
                   Box(inner.x1 - lw, inner.y0, inner.x1, inner.y0 + lh),
                   Box(inner.x0, inner.y1 - lh, inner.x0 + lw, inner.y1)]
        free = [c for c in corners if not any(c.hits_disc(x, y, r + 4) for x, y, r, _ in pts)]
        if free:  # in an empty corner of the plot, preferably the upper left
            items += draw_legend(free[0].x0, free[0].y0)
            obstacles.append(free[0])
        else:  # under the chart
            items += draw_legend(left - 6, below)
            below += math.ceil(lh) + 4

    labels, notes, quality = _labels(pts, inner, obstacles, width - 2 * left)
    items += labels
    items += [("text", left, below + 4 + 15 * k, line, "start", 11, "#333", False) for k, line in enumerate(notes)]
    return Scene(width, below + 15 * len(notes) + (8 if notes else 0), items), quality


def _axes(plot: Box, x_ticks, y_ticks, x_label: str, y_label: str) -> list[tuple]:
    """Grid lines, tick labels and axis titles; the ticks are (pixel, text)."""
    items = []
    for x, text in x_ticks:
        items += [("line", x, plot.y0, x, plot.y1, "#e8e8e8", 1),
                  ("text", x, plot.y1 + 18, text, "middle", 12, "#444", False)]
    for y, text in y_ticks:
        items += [("line", plot.x0, y, plot.x1, y, "#e8e8e8", 1),
                  ("text", plot.x0 - 8, y + 4, text, "end", 12, "#444", False)]
    return items + [("line", plot.x0, plot.y1, plot.x1, plot.y1, "#444", 1),
                    ("line", plot.x0, plot.y0, plot.x0, plot.y1, "#444", 1),
                    ("text", (plot.x0 + plot.x1) / 2, plot.y1 + 42, x_label, "middle", 14, "#222", False),
                    ("text", 14, plot.y0 - 12, y_label, "start", 14, "#222", False)]


def _bubbles(pts: list[tuple[float, float, float, Point]], colours: dict[str, str]) -> list[tuple]:
    """`pts` (x, y, r, point) come largest first, so small bubbles lie on top of large ones; a dot
    marks every centre after all bubbles are drawn, so none is hidden, whatever covers it."""
    colour = lambda p: colours[p.group or p.label]  # noqa: E731
    return [("circle", x, y, r, colour(p), FILL_OPACITY, _darker(colour(p)), 1, "bubble") for x, y, r, p in pts] + \
        [("circle", x, y, 1.8, _darker(colour(p), 0.5), 1.0, "none", 0, "dot") for x, y, r, p in pts]


def _labels(pts: list[tuple[float, float, float, Point]], inner: Box, obstacles: list[Box], width: float):
    """Label items, footnote lines (numbers that stand in for labels, and labels left out), and
    (how many left out, how many numbered)."""
    groups = _merge_coincident(pts)
    bubbles = [Bubble(g[0][0], g[0][1], max(t[2] for t in g)) for g in groups]
    names = [", ".join(sorted(t[3].label for t in g)) for g in groups]
    size = lambda text: (text_width(text, LABEL_PX) + 2, HEIGHT * LABEL_PX)  # noqa: E731
    placed = place_labels(bubbles, [size(n) for n in names], inner, obstacles,
                          fallbacks=[size(str(len(names)))] * len(names))
    # number the stand-ins from left to right, so that the footnote reads in the chart's order
    unnamed = sorted((i for i, p in enumerate(placed) if p is None or p.fallback), key=lambda i: (bubbles[i].x, i))
    numbers = {i: str(k + 1) for k, i in enumerate(i for i in unnamed if placed[i] is not None)}
    items: list[tuple[Any, ...]] = [("line", *p.leader, "#555555", 0.9) for p in placed if p is not None and p.leader]
    items += [("text", p.box.x0 + 1, p.box.y0 + BASELINE * LABEL_PX, numbers[i] if p.fallback else names[i], "start",
               LABEL_PX, "#111", True) for i, p in enumerate(placed) if p is not None]
    notes = _wrap([f"{numbers[i]} {names[i]}" for i in unnamed if i in numbers], 11, width)
    missing = [names[i] for i in unnamed if placed[i] is None]
    if missing:
        notes += _wrap(["not labelled:"] + missing, 11, width)
    return items, notes, (len(missing), len(numbers))


# ---- rendering --------------------------------------------------------------------------------

def to_svg(scene: Scene) -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
           f'viewBox="0 0 {scene.width} {scene.height}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{scene.width}" height="{scene.height}" fill="white"/>']
    for kind, *a in scene.items:
        if kind == "line":
            x1, y1, x2, y2, colour, w = a
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                       f'stroke-width="{w}"/>')
        elif kind == "circle":
            cx, cy, r, fill, opacity, stroke, w, role = a
            outline = f' stroke="{stroke}" stroke-width="{w}"' if w else ""
            out.append(f'<circle class="{role}" cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" '
                       f'fill-opacity="{opacity}"{outline}/>')
        else:
            x, y, text, anchor, size, colour, halo = a
            # a white halo under the glyphs keeps a label readable over bubbles and grid lines
            style = ' stroke="white" stroke-width="3" stroke-linejoin="round" paint-order="stroke"' if halo else ""
            out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
                       f'fill="{colour}"{style}>{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_png(scene: Scene, path: Path) -> None:
    """Needs Pillow (torchvision depends on it; `pip install pillow` otherwise)."""
    from PIL import Image, ImageDraw, ImageFont
    s = 2  # draw at twice the size for smoother circles and text
    img = Image.new("RGBA", (scene.width * s, scene.height * s), "white")
    draw = ImageDraw.Draw(img)
    fonts: dict[int, ImageFont.ImageFont] = {}
    for kind, *a in scene.items:
        if kind == "line":
            x1, y1, x2, y2, colour, w = a
            draw.line([x1 * s, y1 * s, x2 * s, y2 * s], fill=colour, width=max(1, round(w * s)))
        elif kind == "circle":  # each on its own layer, so overlapping translucent bubbles blend
            cx, cy, r, fill, opacity, stroke, w, _ = a
            x0, y0, d = math.floor((cx - r) * s) - 1, math.floor((cy - r) * s) - 1, math.ceil(2 * r * s) + 3
            patch = Image.new("RGBA", (d, d), (0, 0, 0, 0))
            box = [(cx - r) * s - x0, (cy - r) * s - y0, (cx + r) * s - x0, (cy + r) * s - y0]
            ImageDraw.Draw(patch).ellipse(box, fill=_rgb(fill) + (round(255 * opacity),),
                                          outline=_rgb(stroke) + (255,) if w else None, width=max(1, round(w * s)))
            img.alpha_composite(patch, (max(x0, 0), max(y0, 0)), (max(-x0, 0), max(-y0, 0)))
        else:
            x, y, text, anchor, size, colour, halo = a
            font = fonts.setdefault(size, ImageFont.load_default(size=size * s))  # type: ignore[arg-type]
            draw.text((x * s, y * s), text, fill=colour, font=font, stroke_width=3 if halo else 0, stroke_fill="white",
                      anchor={"start": "ls", "middle": "ms", "end": "rs"}[anchor])
    img.convert("RGB").save(path, format="PNG")
