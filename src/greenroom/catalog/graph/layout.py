"""A layered, left-to-right layout of a neighbourhood, with no drawing library.

This is the classic Sugiyama pipeline cut down to what a relation graph of a
few hundred entities needs: break cycles, assign layers, insert waypoints for
edges that skip layers, reorder layers to cut crossings, then place nodes and
route edges as smooth curves. When long dependency chains would make
longest-path layers deep and full of waypoints (slow, and a hairball
anyway), layers by distance from the root replace them, and relations within
a layer become arcs beside it. Every step breaks ties by a fixed order (root
first, then by ref), so the same neighbourhood always gets the same picture,
which keeps the rendered SVG cacheable and the tests exact.

All sizes are in SVG user units (CSS pixels at scale 1). Text is measured
with an approximate glyph-width table, which is enough to size boxes; labels
too long for a box are cut with an ellipsis here, so the renderer draws
exactly what was measured.
"""

from __future__ import annotations

import heapq
import unicodedata
from bisect import bisect_right, insort
from collections import deque
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

from greenroom.catalog.graph.neighbourhood import Edge, Neighbourhood, Node

__all__ = [
    "CAPTION_SIZE",
    "EDGE_LABEL_SIZE",
    "LABEL_SIZE",
    "EdgeRoute",
    "Layout",
    "NodeBox",
    "Point",
    "layout_graph",
    "node_text",
    "text_width",
]

Point = tuple[float, float]

CAPTION_SIZE = 11.0  # kind line, above the name
LABEL_SIZE = 13.0  # name or title
EDGE_LABEL_SIZE = 10.0

_PAD_X = 12.0
_NODE_HEIGHT = 46.0
_MIN_NODE_WIDTH = 80.0
_MAX_TEXT_WIDTH = 220.0
_NODE_GAP = 16.0  # between boxes in a layer
_DUMMY_GAP = 10.0  # between an edge passing through a layer and its neighbours
_MIN_RANK_GAP = 64.0  # between layers; widened to fit the longest edge label
_MARGIN = 12.0
_LOOP_HEIGHT = 26.0  # self-loops are drawn above their node
_SWEEPS = 8
_WAYPOINT_BUDGET = 200  # plus two per node; beyond it, layers by distance from the root
_PLACEMENT_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class NodeBox:
    """Where a node goes: its box (top-left corner and size) and its two text lines."""

    ref: str
    x: float
    y: float
    width: float
    height: float
    layer: int
    caption: str
    label: str
    caption_at: Point  # text-anchor middle, baseline
    label_at: Point

    @property
    def center(self) -> Point:
        return (self.x + self.width / 2, self.y + self.height / 2)


@dataclass(frozen=True, slots=True)
class EdgeRoute:
    """An edge as a chain of cubic Bézier curves from ``start`` (at the source).

    ``label_at`` is the baseline centre of the label. ``reversed`` marks edges
    drawn right to left because they close a cycle.
    """

    source: str
    target: str
    label: str
    start: Point
    curves: tuple[tuple[Point, Point, Point], ...]
    label_at: Point
    reversed: bool = False
    self_loop: bool = False


@dataclass(slots=True)
class Layout:
    """Boxes by ref and one route per edge, in the order of ``Neighbourhood.edges``."""

    width: float
    height: float
    nodes: dict[str, NodeBox]
    edges: list[EdgeRoute]


_NARROW = frozenset("iljtfI.,:;'!|()[]{} ")
_WIDE = frozenset("mwMW@%")


def text_width(text: str, size: float) -> float:
    """Approximate rendered width of ``text`` in a proportional sans-serif font."""
    return _ems(text) * size


@lru_cache(maxsize=4096)
def _ems(text: str) -> float:
    # Cached: the same few relation labels are measured for every edge.
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.32
        elif char in _WIDE:
            em += 0.86
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            em += 1.0
        elif unicodedata.combining(char):
            continue
        elif char.isupper() or char.isdigit():
            em += 0.66
        else:
            em += 0.56
    return em


def _fit(text: str, size: float, limit: float = _MAX_TEXT_WIDTH) -> str:
    if text_width(text, size) <= limit:
        return text
    budget = limit - text_width("…", size)
    used = 0.0
    for i, char in enumerate(text):
        used += text_width(char, size)
        if used > budget:
            return text[:i].rstrip() + "…"
    return text


def node_text(node: Node) -> tuple[str, str]:
    """The two lines drawn in a node's box: a caption (kind, type) and a label."""
    caption = node.kind
    if node.missing:
        caption += " · not found"
    elif node.type:
        caption += f" · {node.type}"
    label = node.title or node.name
    if node.namespace.lower() != "default" and not node.title:
        label = f"{node.namespace}/{label}"
    return _fit(caption, CAPTION_SIZE), _fit(label, LABEL_SIZE)


def layout_graph(hood: Neighbourhood) -> Layout:
    """Lay ``hood`` out left to right: edges point rightwards unless they close a cycle."""
    refs = [hood.root] if hood.root in hood.nodes else []
    refs += sorted(ref for ref in hood.nodes if ref != hood.root)
    index = {ref: i for i, ref in enumerate(refs)}
    n = len(refs)

    texts = [node_text(hood.nodes[ref]) for ref in refs]
    widths = [
        max(
            _MIN_NODE_WIDTH,
            2 * _PAD_X + max(text_width(c, CAPTION_SIZE), text_width(lb, LABEL_SIZE)),
        )
        for c, lb in texts
    ]

    pairs = [(index[e.source], index[e.target]) for e in hood.edges]
    looped = {u for u, v in pairs if u == v}
    layer_of, up, down, chains = _layering(n, pairs)

    rank_count = max(layer_of) + 1
    layers: list[list[int]] = [[] for _ in range(rank_count)]
    for vertex, layer in enumerate(layer_of):
        layers[layer].append(vertex)
    _order_layers(layers, up, down)

    # Vertical extents around each vertex's centre line.
    above = [
        _NODE_HEIGHT / 2 + (_LOOP_HEIGHT + EDGE_LABEL_SIZE + 4 if v in looped else 0)
        for v in range(n)
    ]
    above += [2.0] * (len(layer_of) - n)
    below = [_NODE_HEIGHT / 2] * n + [2.0] * (len(layer_of) - n)
    ys = _place_vertically(layers, up, down, above, below, n)
    top = min(ys[v] - above[v] for v in range(len(ys)))
    ys = [y - top + _MARGIN for y in ys]

    # Columns: each layer is as wide as its widest box; gaps fit the edge labels.
    longest_label = max((text_width(e.label, EDGE_LABEL_SIZE) for e in hood.edges), default=0.0)
    rank_gap = max(_MIN_RANK_GAP, longest_label + 28)
    column_width = [0.0] * rank_count
    for v in range(n):
        column_width[layer_of[v]] = max(column_width[layer_of[v]], widths[v])
    column_left = []
    x = _MARGIN
    for width in column_width:
        column_left.append(x)
        x += width + rank_gap
    canvas_width = x - rank_gap + _MARGIN

    boxes: dict[str, NodeBox] = {}
    for v, ref in enumerate(refs):
        layer = layer_of[v]
        left = column_left[layer] + (column_width[layer] - widths[v]) / 2
        box_top = ys[v] - _NODE_HEIGHT / 2
        centre = left + widths[v] / 2
        boxes[ref] = NodeBox(
            ref=ref,
            x=left,
            y=box_top,
            width=widths[v],
            height=_NODE_HEIGHT,
            layer=layer,
            caption=texts[v][0],
            label=texts[v][1],
            caption_at=(centre, box_top + 8 + CAPTION_SIZE),
            label_at=(centre, box_top + _NODE_HEIGHT - 11),
        )

    def left_of(v: int) -> float:
        return boxes[refs[v]].x if v < n else column_left[layer_of[v]]

    def right_of(v: int) -> float:
        if v < n:
            return boxes[refs[v]].x + widths[v]
        return column_left[layer_of[v]] + column_width[layer_of[v]]

    ports = _ports(pairs, chains, ys)
    routes: list[EdgeRoute] = []
    bottom = max(ys[v] + below[v] for v in range(len(ys)))
    for i, (edge, chain) in enumerate(zip(hood.edges, chains, strict=True)):
        if edge.source == edge.target:
            routes.append(_loop_route(edge.source, edge.label, boxes[edge.source]))
            continue
        if chain is None:
            column = layer_of[index[edge.source]]
            ends = (right_of(index[edge.source]), right_of(index[edge.target]))
            column_right = column_left[column] + column_width[column]
            routes.append(_arc_route(edge, ports[i], ends, column_right, rank_gap))
            continue
        start_y, end_y = ports[i] if index[edge.source] == chain[0] else ports[i][::-1]
        points = [(right_of(chain[0]), start_y)]
        for w in chain[1:-1]:
            points += [(left_of(w), ys[w]), (right_of(w), ys[w])]
        points.append((left_of(chain[-1]), end_y))
        # The middle gap between columns holds the label, clear of the boxes.
        gap = (len(chain) - 2) // 2
        before, after = layer_of[chain[gap]], layer_of[chain[gap + 1]]
        label_x = (column_left[before] + column_width[before] + column_left[after]) / 2
        label_y = (
            _curve_y_at(points[2 * gap], points[2 * gap + 1], label_x) + EDGE_LABEL_SIZE * 0.35
        )
        is_flipped = index[edge.source] != chain[0]
        if is_flipped:
            points.reverse()
        curves = tuple(
            (((p[0] + q[0]) / 2, p[1]), ((p[0] + q[0]) / 2, q[1]), q) for p, q in pairwise(points)
        )
        routes.append(
            EdgeRoute(
                source=edge.source,
                target=edge.target,
                label=edge.label,
                start=points[0],
                curves=curves,
                label_at=(label_x, label_y),
                reversed=is_flipped,
            )
        )
    routes = _spread_labels(routes)
    # Arcs beside the last column and pushed-down labels may reach past the boxes.
    right = canvas_width - _MARGIN
    for route in routes:
        half = text_width(route.label, EDGE_LABEL_SIZE) / 2
        right = max(right, route.label_at[0] + half, *(p[0] for c in route.curves for p in c))
        bottom = max(bottom, route.label_at[1] + 3, *(p[1] for c in route.curves for p in c))
    return Layout(width=right + _MARGIN, height=bottom + _MARGIN, nodes=boxes, edges=routes)


def _layering(
    n: int, pairs: list[tuple[int, int]]
) -> tuple[list[int], list[list[int]], list[list[int]], list[list[int] | None]]:
    """Layers of all vertices, their links to the layers above and below, and each
    edge as a left-to-right chain of vertices (``None`` for loops and in-layer arcs).

    Vertices ``0..n-1`` are the nodes; the rest are waypoints added where an
    edge skips layers, so that it can be routed around the boxes in between.
    """
    links = [(u, v) for u, v in pairs if u != v]
    flipped = _back_edges(n, links)
    layer_of = _assign_layers(n, {(v, u) if (u, v) in flipped else (u, v) for u, v in links})
    if sum(abs(layer_of[u] - layer_of[v]) - 1 for u, v in links) > _WAYPOINT_BUDGET + 2 * n:
        # Long dependency chains make longest-path layers deep and fill them
        # with waypoints, which costs time and draws a hairball anyway. Layers
        # by distance from the root need none: every edge spans one layer or
        # stays within one (drawn as an arc beside the column).
        layer_of = _distance_layers(n, links)

    up: list[list[int]] = [[] for _ in range(n)]
    down: list[list[int]] = [[] for _ in range(n)]
    chains: list[list[int] | None] = []  # left to right; None for loops and arcs
    for u, v in pairs:
        if layer_of[u] == layer_of[v]:
            chains.append(None)
            continue
        a, b = (u, v) if layer_of[u] < layer_of[v] else (v, u)
        chain = [a]
        for layer in range(layer_of[a] + 1, layer_of[b]):
            layer_of.append(layer)
            up.append([])
            down.append([])
            chain.append(len(layer_of) - 1)
        chain.append(b)
        for x, y in pairwise(chain):
            down[x].append(y)
            up[y].append(x)
        chains.append(chain)

    return layer_of, up, down, chains


def _back_edges(n: int, edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Edges to reverse so the graph has no cycle: the back edges of a DFS.

    The DFS starts at vertex 0 (the root) and visits targets in index order,
    so the root's own relations keep their direction and the choice is stable.
    """
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, v in set(edges):
        succ[u].append(v)
    for targets in succ:
        targets.sort()
    state = [0] * n  # 0 unseen, 1 on the DFS stack, 2 finished
    back: set[tuple[int, int]] = set()
    for start in range(n):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, 0)]
        while stack:
            u, i = stack[-1]
            if i == len(succ[u]):
                state[u] = 2
                stack.pop()
                continue
            stack[-1] = (u, i + 1)
            v = succ[u][i]
            if state[v] == 1:
                back.add((u, v))
            elif state[v] == 0:
                state[v] = 1
                stack.append((v, 0))
    return back


def _assign_layers(n: int, dag: set[tuple[int, int]]) -> list[int]:
    """Longest-path layers, then sources moved right next to their first successor.

    Without the second step every node without incoming edges (a user that is
    a member of a group, say) would sit in the first column, far from
    everything it relates to.
    """
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for u, v in sorted(dag):
        succ[u].append(v)
        pred[v].append(u)
    remaining = [len(p) for p in pred]
    ready = [v for v in range(n) if not remaining[v]]
    heapq.heapify(ready)
    order = []
    layer = [0] * n
    while ready:
        u = heapq.heappop(ready)
        order.append(u)
        for v in succ[u]:
            layer[v] = max(layer[v], layer[u] + 1)
            remaining[v] -= 1
            if not remaining[v]:
                heapq.heappush(ready, v)
    for u in reversed(order):
        if not pred[u] and succ[u]:
            layer[u] = min(layer[v] for v in succ[u]) - 1
    lowest = min(layer, default=0)
    return [value - lowest for value in layer]


def _distance_layers(n: int, links: list[tuple[int, int]]) -> list[int]:
    """Layers by distance from the root, edges taken both ways (breadth-first).

    Parts not connected to the root start again at layer 0, from their first vertex.
    """
    near: list[list[int]] = [[] for _ in range(n)]
    for u, v in sorted(set(links)):
        near[u].append(v)
        near[v].append(u)
    layer = [-1] * n
    for start in range(n):
        if layer[start] >= 0:
            continue
        layer[start] = 0
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in near[u]:
                if layer[v] < 0:
                    layer[v] = layer[u] + 1
                    queue.append(v)
    return layer


def _order_layers(layers: list[list[int]], up: list[list[int]], down: list[list[int]]) -> None:
    """Reorder every layer in place by the barycenter heuristic, keeping the best sweep."""
    position = [0.0] * len(up)
    for layer in layers:
        for i, v in enumerate(layer):
            position[v] = i
    best = [list(layer) for layer in layers]
    best_crossings, stale = _crossings(layers, down, position), 0
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        sequence = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for r in sequence:
            neighbours = up if downward else down

            def barycenter(v: int, neighbours: list[list[int]] = neighbours) -> tuple[float, float]:
                near = neighbours[v]
                if not near:
                    return (position[v], position[v])
                return (sum(position[u] for u in near) / len(near), position[v])

            layers[r].sort(key=barycenter)
            for i, v in enumerate(layers[r]):
                position[v] = i
        crossings = _crossings(layers, down, position)
        if crossings < best_crossings:
            best_crossings, stale = crossings, 0
            best = [list(layer) for layer in layers]
        else:
            stale += 1
        # A down and an up sweep that both failed to help: it has settled.
        if not crossings or stale == 2:
            break
    layers[:] = best


def _crossings(layers: list[list[int]], down: list[list[int]], position: list[float]) -> int:
    """Edge crossings between consecutive layers, counted as inversions.

    With edges sorted by their upper end, two edges cross exactly when the
    later one's lower end is strictly before the earlier one's.
    """
    total = 0
    for r in range(len(layers) - 1):
        ends = sorted((position[u], position[v]) for u in layers[r] for v in down[u])
        seen: list[float] = []
        for _, v in ends:
            total += len(seen) - bisect_right(seen, v)
            insort(seen, v)
    return total


def _place_vertically(
    layers: list[list[int]],
    up: list[list[int]],
    down: list[list[int]],
    above: list[float],
    below: list[float],
    n: int,
) -> list[float]:
    """Centre-line y of every vertex: near its neighbours, never overlapping within a layer."""
    ys = [0.0] * len(up)
    spacings = []
    for layer in layers:
        spacing = [0.0]
        for prev, v in pairwise(layer):
            gap = _NODE_GAP if prev < n and v < n else _DUMMY_GAP
            spacing.append(spacing[-1] + below[prev] + above[v] + gap)
        spacings.append(spacing)
        for v, offset in zip(layer, spacing, strict=True):
            ys[v] = offset
    for round_ in range(_PLACEMENT_ROUNDS):
        downward = round_ % 2 == 0
        neighbours = up if downward else down
        sequence = range(len(layers)) if downward else range(len(layers) - 1, -1, -1)
        for r in sequence:
            layer = layers[r]
            wanted = [
                sum(ys[u] for u in neighbours[v]) / len(neighbours[v]) if neighbours[v] else ys[v]
                for v in layer
            ]
            for v, y in zip(layer, _pack(wanted, spacings[r]), strict=True):
                ys[v] = y
    return ys


def _pack(wanted: list[float], offsets: list[float]) -> list[float]:
    """Positions closest (least squares) to ``wanted`` that keep the minimum spacing.

    With ``z[i] = y[i] - offsets[i]`` the spacing constraints become "z never
    decreases", so this is isotonic regression, solved exactly by pooling
    adjacent violators.
    """
    means: list[float] = []  # pooled blocks, each with its mean and size
    sizes: list[int] = []
    for want, offset in zip(wanted, offsets, strict=True):
        mean, size = want - offset, 1
        while means and means[-1] > mean:
            before = sizes.pop()
            mean = (means.pop() * before + mean * size) / (before + size)
            size += before
        means.append(mean)
        sizes.append(size)
    out = [mean for mean, size in zip(means, sizes, strict=True) for _ in range(size)]
    return [z + offset for z, offset in zip(out, offsets, strict=True)]


def _ports(
    pairs: list[tuple[int, int]], chains: list[list[int] | None], ys: list[float]
) -> list[tuple[float, float]]:
    """Where each edge leaves and enters its boxes (source end, target end), spread
    over the box side.

    Edges on one side of a box are sorted by where their other end is, so they
    fan out without crossing each other, and two edges between the same pair
    of boxes get two separate curves and labels.
    """
    sides: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
    for i, ((u, v), chain) in enumerate(zip(pairs, chains, strict=True)):
        if u == v:
            continue
        if chain is None:  # an arc within a layer: both ends on the right side
            sides.setdefault((u, "right"), []).append((ys[v], i, 0))
            sides.setdefault((v, "right"), []).append((ys[u], i, 1))
            continue
        first, last = (0, 1) if chain[0] == u else (1, 0)
        sides.setdefault((chain[0], "right"), []).append((ys[chain[1]], i, first))
        sides.setdefault((chain[-1], "left"), []).append((ys[chain[-2]], i, last))
    ports = [[0.0, 0.0] for _ in pairs]
    for (v, _side), attached in sides.items():
        attached.sort()
        count = len(attached)
        step = min(12.0, _NODE_HEIGHT * 0.6 / max(count - 1, 1))
        for k, (_y, i, end) in enumerate(attached):
            ports[i][end] = ys[v] + (k - (count - 1) / 2) * step
    return [(a, b) for a, b in ports]


def _spread_labels(routes: list[EdgeRoute]) -> list[EdgeRoute]:
    """Move apart labels that would overprint each other in the same gap between layers.

    Labels of one gap share an x (the middle of the gap), so this is the same
    one-dimensional problem as placing boxes in a layer: keep each label as
    close to its curve as the spacing allows.
    """
    by_gap: dict[float, list[int]] = {}
    for i, route in enumerate(routes):
        if not route.self_loop:
            by_gap.setdefault(route.label_at[0], []).append(i)
    routes = list(routes)
    line = EDGE_LABEL_SIZE + 2
    for members in by_gap.values():
        members.sort(key=lambda i: (routes[i].label_at[1], i))
        wanted = [routes[i].label_at[1] for i in members]
        placed = _pack(wanted, [k * line for k in range(len(members))])
        # Never above the top of the drawing; the bottom grows as needed.
        floor = _MARGIN / 2 + EDGE_LABEL_SIZE
        for i, y in zip(members, placed, strict=True):
            y = max(y, floor)
            floor = y + line
            if y != routes[i].label_at[1]:
                routes[i] = replace(routes[i], label_at=(routes[i].label_at[0], y))
    return routes


def _curve_y_at(p: Point, q: Point, x: float) -> float:
    """y of the horizontal-tangent curve from ``p`` to ``q`` where it crosses ``x``."""
    if q[0] == p[0]:
        return (p[1] + q[1]) / 2
    # x(t) of this curve is not linear in t; a few bisection steps find it.
    lo, hi, t = 0.0, 1.0, 0.5
    for _ in range(12):  # to 1/4096 of the gap: far below a pixel
        t = (lo + hi) / 2
        fx = p[0] + (q[0] - p[0]) * (1.5 * t * (1 - t) + t**3)  # x along the curve
        if (fx < x) == (q[0] > p[0]):
            lo = t
        else:
            hi = t
    s = 3 * t * t - 2 * t**3  # y along the curve (smoothstep)
    return p[1] + (q[1] - p[1]) * s


def _arc_route(
    edge: Edge,
    ports: tuple[float, float],
    ends: tuple[float, float],
    column_right: float,
    rank_gap: float,
) -> EdgeRoute:
    """An edge between two boxes of one layer: an arc out to the right of the column.

    Boxes are centred in their column, so each end first runs straight to the
    column's right edge; the arc itself then stays clear of wider boxes between them.
    """
    (start_y, end_y), (source_right, target_right) = ports, ends
    bulge = min(rank_gap * 0.8, 24 + abs(end_y - start_y) * 0.1)
    arc = ((column_right + bulge, start_y), (column_right + bulge, end_y), (column_right, end_y))
    curves = [arc]
    if source_right < column_right:
        curves.insert(0, _line((source_right, start_y), (column_right, start_y)))
    if target_right < column_right:
        curves.append(_line((column_right, end_y), (target_right, end_y)))
    return EdgeRoute(
        source=edge.source,
        target=edge.target,
        label=edge.label,
        start=(source_right, start_y),
        curves=tuple(curves),
        label_at=(column_right + bulge * 0.75, (start_y + end_y) / 2 + EDGE_LABEL_SIZE * 0.35),
    )


def _line(p: Point, q: Point) -> tuple[Point, Point, Point]:
    # Control points on the line itself, a third of the way in from each end,
    # keep the tangent defined at both ends for the arrowhead's orientation.
    third = ((q[0] - p[0]) / 3, (q[1] - p[1]) / 3)
    return ((p[0] + third[0], p[1] + third[1]), (q[0] - third[0], q[1] - third[1]), q)


def _loop_route(ref: str, label: str, box: NodeBox) -> EdgeRoute:
    """A self-loop: an arc over the top of the box, arrow coming back down."""
    cx = box.x + box.width / 2
    spread = min(box.width / 4, 20.0)
    start = (cx + spread, box.y)
    end = (cx - spread, box.y)
    curve = (
        (cx + spread + 14, box.y - _LOOP_HEIGHT * 1.3),
        (cx - spread - 14, box.y - _LOOP_HEIGHT * 1.3),
        end,
    )
    return EdgeRoute(
        source=ref,
        target=ref,
        label=label,
        start=start,
        curves=(curve,),
        label_at=(cx, box.y - _LOOP_HEIGHT - 4),
        self_loop=True,
    )
