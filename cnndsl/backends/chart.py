"""A bubble chart on log-log axes, as a list of drawing primitives rendered to SVG (by hand, no
dependencies) or PNG (Pillow). Canziani et al. 2017 draw accuracy against operations with bubble
size by parameters; cnndsl has no accuracies, so it draws parameters against operations with
bubble area by activation memory."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac"]


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    size: float  # bubble area is proportional to it


@dataclass
class Scene:
    width: int
    height: int
    items: list[tuple] = field(default_factory=list)  # ("line", x1, y1, x2, y2, colour, width),
    # ("circle", cx, cy, r, fill), ("text", x, y, text, anchor: start|middle|end, px, colour)


def _decades(lo: float, hi: float) -> list[int]:
    return list(range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1))


def _tick(e: int, unit: str) -> str:
    for p, name in ((9, "G"), (6, "M"), (3, "k"), (0, "")):
        if e >= p:
            return f"{10 ** (e - p)}{name}{unit}"
    return f"{10.0 ** e:g}{unit}"


def bubble_chart(points: list[Point], title: str, x_label: str, y_label: str, size_label,
                 width: int = 880, height: int = 600) -> Scene:
    """`size_label(v)` names a bubble size for the legend, e.g. "10 MB"."""
    left, right, top, bottom = 80, 30, 50, 70
    scene = Scene(width, height)
    xs = _decades(min(p.x for p in points), max(p.x for p in points))
    ys = _decades(min(p.y for p in points), max(p.y for p in points))
    if len(xs) < 2:
        xs.append(xs[-1] + 1)
    if len(ys) < 2:
        ys.append(ys[-1] + 1)
    pw, ph = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (math.log10(v) - xs[0]) / (xs[-1] - xs[0]) * pw

    def py(v: float) -> float:
        return top + ph - (math.log10(v) - ys[0]) / (ys[-1] - ys[0]) * ph

    add = scene.items.append
    add(("text", width / 2, 28, title, "middle", 18, "#222"))
    for e in xs:
        x = px(10.0 ** e)
        add(("line", x, top, x, top + ph, "#e4e4e4", 1))
        add(("text", x, top + ph + 20, _tick(e, ""), "middle", 12, "#444"))
    for e in ys:
        y = py(10.0 ** e)
        add(("line", left, y, left + pw, y, "#e4e4e4", 1))
        add(("text", left - 8, y + 4, _tick(e, ""), "end", 12, "#444"))
    add(("line", left, top + ph, left + pw, top + ph, "#444", 1))
    add(("line", left, top, left, top + ph, "#444", 1))
    add(("text", left + pw / 2, height - 22, x_label, "middle", 14, "#222"))
    add(("text", 16, top - 14, y_label, "start", 14, "#222"))
    biggest = max(p.size for p in points) or 1
    rmax = min(pw, ph) / 14
    radius = lambda size: max(3.0, rmax * math.sqrt(size / biggest))  # noqa: E731  (area ~ size)
    for i, p in enumerate(sorted(points, key=lambda p: -p.size)):  # small bubbles on top
        add(("circle", px(p.x), py(p.y), radius(p.size), PALETTE[i % len(PALETTE)]))
    for p in points:
        r = radius(p.size)
        add(("text", px(p.x) + r * 0.75 + 4, py(p.y) - r * 0.75 - 2, p.label, "start", 12, "#111"))
    if biggest > 0:  # legend: a bubble of a round size
        ref = 10.0 ** math.floor(math.log10(biggest))
        r = radius(ref)
        add(("circle", left + 14 + r, top + 14 + r, r, "#bbbbbb"))
        add(("text", left + 22 + 2 * r, top + 18 + r, f"= {size_label(ref)}", "start", 12, "#444"))
    return scene


def to_svg(scene: Scene) -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
           f'viewBox="0 0 {scene.width} {scene.height}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{scene.width}" height="{scene.height}" fill="white"/>']
    for item in scene.items:
        kind, *a = item
        if kind == "line":
            x1, y1, x2, y2, colour, w = a
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                       f'stroke-width="{w}"/>')
        elif kind == "circle":
            cx, cy, r, fill = a
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" fill-opacity="0.6" '
                       f'stroke="{fill}"/>')
        else:
            x, y, text, anchor, size, colour = a
            out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
                       f'fill="{colour}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_png(scene: Scene, path: Path) -> None:
    """Needs Pillow (torchvision depends on it; `pip install pillow` otherwise)."""
    from PIL import Image, ImageDraw, ImageFont
    scale = 2  # draw at twice the size for smoother circles and text
    img = Image.new("RGBA", (scene.width * scale, scene.height * scale), "white")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw, shapes = ImageDraw.Draw(img), ImageDraw.Draw(layer)
    fonts: dict[int, ImageFont.ImageFont] = {}
    for kind, *a in scene.items:
        if kind == "line":
            x1, y1, x2, y2, colour, w = a
            draw.line([x1 * scale, y1 * scale, x2 * scale, y2 * scale], fill=colour, width=w * scale)
        elif kind == "circle":
            cx, cy, r, fill = a
            rgb = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
            shapes.ellipse([(cx - r) * scale, (cy - r) * scale, (cx + r) * scale, (cy + r) * scale],
                           fill=rgb + (153,), outline=rgb + (255,))
    img = Image.alpha_composite(img, layer)
    draw = ImageDraw.Draw(img)
    for kind, *a in scene.items:
        if kind == "text":
            x, y, text, anchor, size, colour = a
            font = fonts.setdefault(size, ImageFont.load_default(size=size * scale))
            draw.text((x * scale, y * scale), text, fill=colour, font=font,
                      anchor={"start": "ls", "middle": "ms", "end": "rs"}[anchor])
    img.convert("RGB").save(path, format="PNG")
