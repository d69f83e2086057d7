"""Label placement for scatter and bubble charts: pure geometry, no dependencies.

An SVG cannot be measured when it is written (the viewer picks the font), so text width is estimated
from a per-character table that errs wide: its widths are DejaVu Sans's (the usual Linux fallback),
wider than Helvetica, Arial or Liberation Sans. Placement is greedy and deterministic: the most
crowded bubbles choose first, each takes the cheapest candidate position around it (adjacent in one
of 16 directions, then further out with a leader line) that collides with no placed label, leader,
obstacle or bubble centre; a label that fits nowhere is left for the caller to number or list."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# em widths, rounded up, by character class (DejaVu Sans advance widths / 2048)
_WIDTH_CLASSES = {"il.,:;'|!": 0.28, "jI": 0.30, "ft/()[] ": 0.40, "r-": 0.42, "sz_": 0.53, "ckvxyJL": 0.60,
                  "abdeghnopqu0123456789#+=<>?": 0.64, "w": 0.82, "m": 0.98, "MW": 1.0}
_WIDTH = {c: w for chars, w in _WIDTH_CLASSES.items() for c in chars}
_WIDE = 0.8  # capitals and anything else


def text_width(text: str, px: float) -> float:
    """A width that the text, set in a common sans-serif at `px` pixels, does not exceed."""
    return px * sum(_WIDTH.get(c, _WIDE) for c in text)


# A label's box is [top, top + HEIGHT*px]; its baseline is BASELINE*px below the top, which leaves room
# for ascenders (about 0.76 em) above and descenders (about 0.24 em) below.
HEIGHT, BASELINE = 1.1, 0.84


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: Box, pad: float = 0.0) -> bool:
        return self.x0 < other.x1 + pad and other.x0 < self.x1 + pad and \
            self.y0 < other.y1 + pad and other.y0 < self.y1 + pad

    def inside(self, outer: Box) -> bool:
        return outer.x0 <= self.x0 and self.x1 <= outer.x1 and outer.y0 <= self.y0 and self.y1 <= outer.y1

    def nearest(self, x: float, y: float) -> tuple[float, float]:
        return min(max(x, self.x0), self.x1), min(max(y, self.y0), self.y1)

    def hits_disc(self, cx: float, cy: float, r: float) -> bool:
        nx, ny = self.nearest(cx, cy)
        return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r

    def hits_segment(self, seg: tuple[float, float, float, float]) -> bool:
        """Liang-Barsky clipping: does the segment pass through the box?"""
        x1, y1, x2, y2 = seg
        t0, t1, dx, dy = 0.0, 1.0, x2 - x1, y2 - y1
        for p, q in ((-dx, x1 - self.x0), (dx, self.x1 - x1), (-dy, y1 - self.y0), (dy, self.y1 - y1)):
            if p == 0:
                if q < 0:
                    return False
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
            if t0 > t1:
                return False
        return True


@dataclass(frozen=True)
class Bubble:
    x: float
    y: float
    r: float


@dataclass(frozen=True)
class Placement:
    box: Box
    leader: tuple[float, float, float, float] | None  # from the box to the bubble's centre, when apart
    fallback: bool = False  # the short stand-in was placed, not the label


# Directions in order of preference (degrees, counter-clockwise from east; screen y grows down):
# right, left, the upper then lower diagonals, above, below, then the directions between.
DIRECTIONS = (0, 180, 45, 135, -45, -135, 90, -90, 22.5, 157.5, -22.5, -157.5, 67.5, 112.5, -67.5, -112.5)
GAP = 3.0  # between a bubble's rim and an adjacent label
STEPS = (0, 10, 22, 36, 52, 70, 90)  # further distances, reached by a leader line
FAR = STEPS + (115,)  # a short stand-in may go a little further out: its leader identifies it
CENTRE = 3.5  # no label covers a bubble's centre dot, and leaders avoid them
SMALL = 9.0  # no label covers any part of a bubble this small (radius, px)
NEAR = 11.0  # an adjacent label this close to another bubble's outline could be read as its label
CROWD = 60.0  # radius of the neighbourhood that counts towards a bubble's crowding
# Costs: each step outwards costs STEP (a direction's rank adds less than that); then per other
# bubble whose rim an adjacent label touches (it could be read as that bubble's label), whose disc
# the label overlaps, whose centre a leader passes, and per leader crossed.
STEP, TOUCH, OVERLAP, PASS, CROSS = 20, 12, 5, 12, 15


def directions(b: Bubble, bubbles: list[Bubble]) -> list[float]:
    """DIRECTIONS, those pointing away from b's crowded neighbours first: a bubble on the edge of a
    cluster is labelled on the outside, where there is room, and its leader crosses no one."""
    near = [o for o in bubbles if o is not b and math.hypot(o.x - b.x, o.y - b.y) < CROWD + b.r + o.r]
    dx, dy = sum(b.x - o.x for o in near), sum(o.y - b.y for o in near)  # y up, as DIRECTIONS
    if math.hypot(dx, dy) < 1e-6:
        return list(DIRECTIONS)
    away = math.degrees(math.atan2(dy, dx))
    apart = lambda a: abs((a - away + 180) % 360 - 180)  # noqa: E731
    # in 45-degree sectors, so that the nearest sectors keep DIRECTIONS' preference among themselves
    return sorted(DIRECTIONS, key=lambda a: (round(apart(a) / 45), DIRECTIONS.index(a)))


def candidates(b: Bubble, w: float, h: float, steps: tuple[float, ...] = STEPS, outward: Sequence[float] = DIRECTIONS,
               inside: bool = False):
    """(base cost, box, leader) for positions around bubble `b`, in increasing base cost. Each box
    touches the circle of radius r + GAP + step at a corner or edge midpoint, so it never covers its
    own bubble; a box away from the rim gets a leader that points at the bubble's centre. Adjacent
    labels take DIRECTIONS' order, the way a reader looks for them; leaders go `outward` first. With
    `inside`, for a short stand-in, positions beside the centre dot come after the adjacent ones."""
    for step_index, step in enumerate(steps):
        for rank, angle in enumerate(outward if step else DIRECTIONS):
            a = math.radians(angle)
            cos, sin = math.cos(a), -math.sin(a)
            px, py = b.x + (b.r + GAP + step) * cos, b.y + (b.r + GAP + step) * sin
            x0 = px if cos > 0.3 else px - w if cos < -0.3 else px - w / 2
            y0 = py - h if sin < -0.3 else py if sin > 0.3 else py - h / 2
            box = Box(x0, y0, x0 + w, y0 + h)
            leader = None
            if step:
                nx, ny = box.nearest(b.x, b.y)
                d = math.hypot(nx - b.x, ny - b.y)
                leader = (nx, ny, b.x + (nx - b.x) * CENTRE / d, b.y + (ny - b.y) * CENTRE / d)
            yield step_index * STEP + rank, box, leader
        if inside and not step:  # beside the centre dot, on the bubble itself
            for rank, (x0, y0) in enumerate(((b.x + CENTRE + 1, b.y - h / 2), (b.x - CENTRE - 1 - w, b.y - h / 2),
                                             (b.x - w / 2, b.y - CENTRE - 1 - h), (b.x - w / 2, b.y + CENTRE + 1))):
                yield len(DIRECTIONS) + rank, Box(x0, y0, x0 + w, y0 + h), None


def crowding(bubbles: list[Bubble]) -> list[int]:
    return [sum(1 for o in bubbles if o is not b and math.hypot(o.x - b.x, o.y - b.y) < CROWD + b.r + o.r)
            for b in bubbles]


def _rim_distance(box: Box, o: Bubble) -> float:
    """How far the box is from the circle (the outline) of bubble `o`; 0 if it crosses it."""
    near = math.hypot(*(a - b for a, b in zip(box.nearest(o.x, o.y), (o.x, o.y))))
    far = max(math.hypot(x - o.x, y - o.y) for x in (box.x0, box.x1) for y in (box.y0, box.y1))
    return near - o.r if near > o.r else o.r - far if far < o.r else 0.0


def _overlap(box: Box, o: Bubble) -> float:
    """The cost of a label lying on another bubble: OVERLAP, up to three times that as it nears
    the bubble's centre, where it would read as that bubble's label."""
    if not box.hits_disc(o.x, o.y, o.r):
        return 0.0
    depth = 1 - math.hypot(*(a - b for a, b in zip(box.nearest(o.x, o.y), (o.x, o.y)))) / o.r
    return OVERLAP * (1 + 2 * depth)


def _segments_cross(s: tuple[float, float, float, float], t: tuple[float, float, float, float]) -> bool:
    def side(ax, ay, bx, by, cx, cy):
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    d1, d2 = side(*t[:2], *t[2:], *s[:2]), side(*t[:2], *t[2:], *s[2:])
    d3, d4 = side(*s[:2], *s[2:], *t[:2]), side(*s[:2], *s[2:], *t[2:])
    return d1 * d2 < 0 and d3 * d4 < 0


def _near_segment(x: float, y: float, seg: tuple[float, float, float, float], dist: float) -> bool:
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy or 1)))
    return math.hypot(x1 + t * dx - x, y1 + t * dy - y) < dist


def place_labels(bubbles: list[Bubble], sizes: list[tuple[float, float]], bounds: Box,
                 obstacles: Sequence[Box] = (), pad: float = 2.0,
                 fallbacks: list[tuple[float, float]] | None = None) -> list[Placement | None]:
    """A placement (or None) for the label of each bubble; `sizes` are the labels' (width, height).
    Labels stay inside `bounds` and off `obstacles`, and never overlap one another, a leader, any
    bubble's centre, or a small bubble. The most crowded bubbles choose first; ties by size, then
    by index, so the result depends only on the input. Labels that fit nowhere then try their
    `fallbacks` size (a short stand-in, such as a number), in the same order; such placements are
    marked `fallback`."""
    crowd = crowding(bubbles)
    order = sorted(range(len(bubbles)), key=lambda i: (-crowd[i], -bubbles[i].r, i))
    outward = [directions(b, bubbles) for b in bubbles]
    placed: list[Box] = list(obstacles)
    leaders: list[tuple[float, float, float, float]] = []
    result: list[Placement | None] = [None] * len(bubbles)
    rounds = [(sizes, STEPS, False)] + ([(fallbacks, FAR, True)] if fallbacks else [])
    for round_sizes, steps, fallback in rounds:
        # Distance by distance: every label that fits next to its bubble is placed before any label
        # moves away on a leader, so a crowded bubble's label cannot take a quiet neighbour's place.
        for k in range(len(steps)):
            for i in order:
                if result[i] is not None:
                    continue
                best = _best(i, bubbles, round_sizes[i], bounds, placed, leaders, pad, steps[:k + 1], outward[i],
                             inside=fallback)
                # a position with penalties waits for the next distance, where it might be beaten
                if best is not None and (k == len(steps) - 1 or best[0] < (k + 1) * STEP):
                    result[i] = Placement(best[1], best[2], fallback)
                    placed.append(best[1])
                    if best[2]:
                        leaders.append(best[2])
    return result


def _best(i: int, bubbles: list[Bubble], size: tuple[float, float], bounds: Box, placed: list[Box],
          leaders: list[tuple[float, float, float, float]], pad: float, steps: tuple, outward: list[float],
          inside: bool = False):
    """The cheapest admissible (cost, box, leader) for bubble i's label, or None."""
    others = [o for j, o in enumerate(bubbles) if j != i]
    best = None
    for cost, box, leader in candidates(bubbles[i], *size, steps, outward, inside):
        if best is not None and cost >= best[0]:
            break  # base costs only grow, and penalties only add: nothing later can win
        # a short stand-in may cover part of a small bubble, though never its centre
        if not box.inside(bounds) or any(box.hits(p, pad) for p in placed) or \
                any(box.hits_segment(s) for s in leaders) or \
                any(box.hits_disc(o.x, o.y, (CENTRE if o.r > SMALL or inside else o.r) + pad) for o in others):
            continue
        if leader and any(p.hits_segment(leader) for p in placed):
            continue
        if leader:
            cost += PASS * sum(_near_segment(o.x, o.y, leader, CENTRE + 1) for o in others)
            cost += CROSS * sum(_segments_cross(leader, s) for s in leaders)
        else:
            cost += TOUCH * sum(_rim_distance(box, o) < NEAR for o in others)
        cost += sum(_overlap(box, o) for o in others)
        if best is None or cost < best[0]:
            best = (cost, box, leader)
    return best
