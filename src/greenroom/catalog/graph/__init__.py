"""The relation graph around one catalog entity, laid out and drawn on the server.

Backstage draws this graph in the browser with a JavaScript layout library.
Greenroom's pages work without JavaScript, so the graph is computed here and
sent as inline SVG: :func:`neighbourhood` collects the entities within a few
relations of the root (one catalog query per level, capped in size),
:func:`layout_graph` places them in left-to-right layers, and
:func:`render_svg` turns the result into markup whose nodes are plain links
and whose colours come from the page's CSS.

    hood = neighbourhood("component:default/shop", fetch, depth=2)
    svg = render_svg(hood, layout_graph(hood), href=entity_url)
"""

from greenroom.catalog.graph.layout import EdgeRoute, Layout, NodeBox, layout_graph
from greenroom.catalog.graph.neighbourhood import (
    RELATION_PAIRS,
    Edge,
    Neighbourhood,
    Node,
    neighbourhood,
)
from greenroom.catalog.graph.svg import render_svg

__all__ = [
    "RELATION_PAIRS",
    "Edge",
    "EdgeRoute",
    "Layout",
    "Neighbourhood",
    "Node",
    "NodeBox",
    "layout_graph",
    "neighbourhood",
    "render_svg",
]
