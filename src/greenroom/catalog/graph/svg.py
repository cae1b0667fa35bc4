"""A laid-out neighbourhood as one inline ``<svg>`` element, safe to embed in a page.

The output needs no script and references nothing outside itself, so it works
with JavaScript off and under a strict content security policy. Entity names
and titles come from users' YAML, so every text and attribute value goes
through :func:`_escape`, and link targets that would run code are replaced.

Colours are left to the page: elements carry ``gr-graph-*`` classes and the
only presentation attributes are ``currentColor`` fallbacks (any CSS rule
overrides them), so light and dark themes style the graph by setting
``color`` or the portal stylesheet's `.gr-graph` rules.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from greenroom.catalog.graph.layout import (
    CAPTION_SIZE,
    EDGE_LABEL_SIZE,
    LABEL_SIZE,
    EdgeRoute,
    Layout,
    NodeBox,
)
from greenroom.catalog.graph.neighbourhood import Neighbourhood, Node

__all__ = ["render_svg"]

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
# Characters XML 1.0 cannot carry at all, even escaped; a title holding one
# would make the whole document unparseable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def render_svg(
    hood: Neighbourhood,
    layout: Layout,
    *,
    href: Callable[[Node], str],
    id_prefix: str = "gr-graph",
) -> str:
    """The SVG markup for ``hood`` as placed by ``layout``; each node links to ``href(node)``.

    ``id_prefix`` names the title, description and arrowhead, so two graphs on
    one page can be kept apart; it must be a plain identifier.
    """
    if not _ID.match(id_prefix):
        raise ValueError(f"id_prefix must be a plain identifier, not {id_prefix!r}")
    root = hood.nodes[hood.root]
    title_id, desc_id, arrow_id = f"{id_prefix}-title", f"{id_prefix}-desc", f"{id_prefix}-arrow"
    width, height = _num(layout.width), _num(layout.height)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gr-graph" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="group" aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{_escape(f"Relations of {_display(root)}")}</title>',
        f'<desc id="{desc_id}">{_escape(_description(hood))}</desc>',
        # One arrowhead for every edge; auto orientation follows each curve's end.
        f'<defs><marker id="{arrow_id}" viewBox="0 0 10 10" refX="10" refY="5"'
        ' markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">'
        '<path class="gr-graph-arrow" d="M0 1L10 5L0 9z" fill="currentColor"/></marker></defs>',
        '<g class="gr-graph-edges">',
    ]
    out += [_edge(route, arrow_id) for route in layout.edges]
    # Labels after all edges, so no edge is drawn over another edge's label.
    out += [_edge_label(route) for route in layout.edges]
    out.append('</g><g class="gr-graph-nodes">')
    for ref, box in layout.nodes.items():
        out.append(_node(hood.nodes[ref], box, href, is_root=ref == hood.root))
    out.append("</g></svg>")
    return "".join(out)


def _edge(route: EdgeRoute, arrow_id: str) -> str:
    d = [f"M{_point(route.start)}"]
    d += [f"C{_point(c1)} {_point(c2)} {_point(end)}" for c1, c2, end in route.curves]
    return (
        f'<path class="gr-graph-edge {_class("relation", route.label)}"'
        f' data-source="{_escape(route.source)}" data-target="{_escape(route.target)}"'
        f' d="{"".join(d)}" fill="none" stroke="currentColor" marker-end="url(#{arrow_id})"/>'
    )


def _edge_label(route: EdgeRoute) -> str:
    x, y = route.label_at
    return (
        f'<text class="gr-graph-label" x="{_num(x)}" y="{_num(y)}" text-anchor="middle"'
        f' font-size="{_num(EDGE_LABEL_SIZE)}" fill="currentColor">{_escape(route.label)}</text>'
    )


def _node(node: Node, box: NodeBox, href: Callable[[Node], str], *, is_root: bool) -> str:
    classes = ["gr-graph-node", _class("kind", node.kind)]
    if is_root:
        classes.append("gr-graph-node--root")
    if node.missing:
        classes.append("gr-graph-node--missing")
    tooltip = f"{_display(node)} ({node.ref})"
    if node.missing:
        tooltip += ", not in the catalog"
    rect_extra = ' stroke-dasharray="4 3"' if node.missing else ""
    if is_root:
        rect_extra += ' stroke-width="2"'
    (cx, cy), (lx, ly) = box.caption_at, box.label_at
    return (
        f'<a class="{" ".join(classes)}" href="{_escape(_safe_href(href(node)))}"'
        f' data-ref="{_escape(node.ref)}">'
        f"<title>{_escape(tooltip)}</title>"
        f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}"'
        f' height="{_num(box.height)}" rx="6" fill="none" stroke="currentColor"'
        # A hollow fallback box would otherwise only be clickable on its text.
        f' pointer-events="all"{rect_extra}/>'
        f'<text class="gr-graph-node-kind" x="{_num(cx)}" y="{_num(cy)}" text-anchor="middle"'
        f' font-size="{_num(CAPTION_SIZE)}" fill="currentColor">{_escape(box.caption)}</text>'
        f'<text class="gr-graph-node-name" x="{_num(lx)}" y="{_num(ly)}" text-anchor="middle"'
        f' font-size="{_num(LABEL_SIZE)}" font-weight="600" fill="currentColor">'
        f"{_escape(box.label)}</text></a>"
    )


def _description(hood: Neighbourhood) -> str:
    entities = len(hood.nodes)
    text = (
        f"{entities} {'entity' if entities == 1 else 'entities'} and "
        f"{len(hood.edges)} {'relation' if len(hood.edges) == 1 else 'relations'}"
        f" around {hood.root}."
    )
    missing = sum(node.missing for node in hood.nodes.values())
    if missing:
        text += f" {missing} referenced {'entity is' if missing == 1 else 'entities are'}"
        text += " not in the catalog (dashed)."
    if hood.truncated:
        text += f" Showing {entities} of {hood.known} entities."
    return text


def _display(node: Node) -> str:
    return node.title or node.name


def _class(prefix: str, value: str) -> str:
    # Kinds and relation types are free text for custom kinds; a class name
    # must not be able to break out of the attribute or add other classes.
    slug = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    return f"{prefix}-{slug or 'unknown'}"


def _safe_href(url: str) -> str:
    """``url`` unless it has a scheme that could run code (``javascript:``, ``data:``...).

    Browsers drop tabs and newlines anywhere in a URL and leading control
    characters and spaces, so ``java\\tscript:`` is ``javascript:`` to them;
    the check looks at the URL the way they will.
    """
    seen = re.sub("[\t\n\r]", "", url).lstrip(_C0_AND_SPACE)
    match = _SCHEME.match(seen)
    if match and match.group(1).lower() not in _SAFE_SCHEMES:
        return "#"
    return url


def _escape(text: str) -> str:
    """Text safe as XML content and as a double- or single-quoted attribute value."""
    return html.escape(_NOT_XML.sub("", text), quote=True)


def _num(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _point(point: tuple[float, float]) -> str:
    return f"{_num(point[0])} {_num(point[1])}"
