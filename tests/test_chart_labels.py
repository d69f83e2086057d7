"""The bubble chart's label placer and drawing order (cnndsl/views/labels.py, chart.py): no
overlapping labels on a crowded input, every network named on the chart or in its footnote, the
same output for the same input, and a text-width estimate that real fonts do not exceed."""
from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cnndsl.views.chart import LABEL_PX, Point, bubble_chart, to_svg
from cnndsl.views.labels import CENTRE, HEIGHT, Box, Bubble, place_labels, text_width

NS = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[1]


def crowd(n: int = 60, seed: int = 0) -> tuple[list[Bubble], list[tuple[float, float]]]:
    """n bubbles, most of them packed into a 160x120 patch of a 600x400 plot, names 3 to 18
    characters long: far more label area than the patch has room for."""
    rng = random.Random(seed)
    bubbles = [Bubble(rng.uniform(220, 380), rng.uniform(140, 260), rng.uniform(3, 30)) for _ in range(n - 10)]
    bubbles += [Bubble(rng.uniform(20, 580), rng.uniform(20, 380), rng.uniform(3, 10)) for _ in range(10)]
    sizes = [(text_width("x" * rng.randint(3, 18), 12), HEIGHT * 12) for _ in range(n)]
    return bubbles, sizes


BOUNDS = Box(0, 0, 600, 400)


def test_placed_labels_never_overlap_on_a_crowded_input():
    bubbles, sizes = crowd()
    placed = place_labels(bubbles, sizes, BOUNDS, fallbacks=[(14.0, HEIGHT * 12)] * len(bubbles))
    boxes = [p.box for p in placed if p is not None]
    assert len(boxes) > len(bubbles) / 2  # the placer does place labels: the test is not vacuous
    for i, a in enumerate(boxes):
        assert a.inside(BOUNDS)
        for b in boxes[i + 1:]:
            assert not a.hits(b), (a, b)
    leaders = [p.leader for p in placed if p is not None and p.leader]
    assert leaders  # the crowd needs leader lines
    for i, p in enumerate(placed):
        if p is None:
            continue
        expected = sizes[i][0] if not p.fallback else 14.0
        assert p.box.x1 - p.box.x0 == pytest.approx(expected)
        for j, o in enumerate(bubbles):  # no label hides a bubble's centre; none covers its own bubble
            assert not p.box.hits_disc(o.x, o.y, CENTRE if j != i else o.r), (i, j)
        assert not any(p.box.hits_segment(s) for s in leaders if s is not p.leader)


def test_placement_is_deterministic():
    bubbles, sizes = crowd(seed=1)
    assert place_labels(bubbles, sizes, BOUNDS) == place_labels(list(bubbles), list(sizes), BOUNDS)


def test_a_lone_bubble_is_labelled_on_its_right_without_a_leader():
    (p,) = place_labels([Bubble(100, 100, 10)], [(50, 13)], BOUNDS)
    assert p.leader is None and p.box.x0 > 110 and p.box.y0 < 100 < p.box.y1
    (p,) = place_labels([Bubble(580, 100, 10)], [(50, 13)], BOUNDS)  # no room on the right: the left
    assert p.leader is None and p.box.x1 < 570


def synthetic_points(n: int = 45, seed: int = 2) -> list[Point]:
    rng = random.Random(seed)
    return [Point(f"net{i}_{'x' * rng.randint(0, 9)}", 10 ** rng.uniform(9, 10.3), 10 ** rng.uniform(7, 8.2),
                  rng.uniform(1e6, 2e8), f"family{i % 7}") for i in range(n)]


def test_chart_names_every_point_once_and_its_labels_do_not_overlap():
    points = synthetic_points()
    svg = to_svg(bubble_chart(points, "t", "x", "y", lambda v: f"{v:g}", size_title="size"))
    assert svg == to_svg(bubble_chart(points, "t", "x", "y", lambda v: f"{v:g}", size_title="size"))
    root = ET.fromstring(svg)
    labels = [t for t in root.findall(f"{NS}text") if t.get("stroke") == "white"]  # the haloed ones
    boxes = [Box(float(t.get("x")), float(t.get("y")) - LABEL_PX, float(t.get("x")) + text_width(t.text, LABEL_PX),
                 float(t.get("y"))) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.hits(b), (a, b)
    on_chart = [t.text for t in labels]
    footnote = " ".join(t.text for t in root.findall(f"{NS}text") if t.get("font-size") == "11")
    numbered = dict(re.findall(r"(\d+) (net\d+_x*)", footnote))
    named = [n for n in on_chart if not n.isdigit()] + list(numbered.values()) + \
        re.findall(r"net\d+_x*", footnote.split("not labelled:")[1] if "not labelled:" in footnote else "")
    assert sorted(named) == sorted(p.label for p in points)  # each exactly once
    assert sorted(n for n in on_chart if n.isdigit()) == sorted(numbered)  # every number is explained


def test_bubbles_largest_first_and_every_centre_drawn_on_top():
    root = ET.fromstring(to_svg(bubble_chart(synthetic_points(20), "t", "x", "y", str)))
    circles = root.findall(f"{NS}circle")
    roles = [c.get("class") for c in circles]
    bubbles = [float(c.get("r")) for c in circles if c.get("class") == "bubble"]
    assert len(bubbles) == 20 and bubbles == sorted(bubbles, reverse=True)
    assert roles.count("dot") == 20 and min(i for i, r in enumerate(roles) if r == "dot") > \
        max(i for i, r in enumerate(roles) if r == "bubble")
    assert all(0 < float(c.get("fill-opacity")) < 1 for c in circles if c.get("class") == "bubble")


def test_coincident_points_share_a_label():
    points = [Point("vgg16", 1.5e10, 1.38e8, 7e7, "vgg"), Point("vgg16_bn", 1.5e10, 1.38e8, 1.2e8, "vgg"),
              Point("alexnet", 7e8, 6e7, 4e6, "alexnet")]
    texts = [t.text for t in ET.fromstring(to_svg(bubble_chart(points, "t", "x", "y", str))).findall(f"{NS}text")]
    assert "vgg16, vgg16_bn" in texts and "vgg16" not in texts and "alexnet" in texts


ZOO_NAMES = [p.stem for p in sorted((ROOT / "archs").glob("*.arch"))] + ["vgg19, vgg19_bn", "MACs per image (log)"]


def test_text_width_is_not_exceeded_by_pillows_default_font():
    """Pillow's bundled font draws the PNG; its measured advance must fit in the estimate."""
    ImageFont = pytest.importorskip("PIL.ImageFont")
    font = ImageFont.load_default(size=LABEL_PX * 4)
    for text in ZOO_NAMES:
        assert font.getlength(text) / 4 <= text_width(text, LABEL_PX), text


@pytest.mark.parametrize("name", ["DejaVuSans.ttf", "LiberationSans-Regular.ttf"])
def test_text_width_is_not_exceeded_by_common_svg_fallback_fonts(name):
    """An SVG viewer without Helvetica or Arial falls back to one of these (on Linux)."""
    ImageFont = pytest.importorskip("PIL.ImageFont")
    found = [p for d in ("/usr/share/fonts", "/usr/local/share/fonts") for p in Path(d).rglob(name)]
    if not found:
        pytest.skip(f"{name} is not installed")
    font = ImageFont.truetype(str(found[0]), LABEL_PX * 4)
    for text in ZOO_NAMES:
        assert font.getlength(text) / 4 <= text_width(text, LABEL_PX), text
