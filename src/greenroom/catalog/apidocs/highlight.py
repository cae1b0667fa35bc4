"""Syntax-highlight API definitions on the server, with Pygments.

Why on the server: the definition is already here, Pygments is fast (a few hundred
kilobytes in a fraction of a second), and the page then needs no JavaScript. The
output is Pygments' HTML: every piece of the definition is HTML-escaped by the
formatter, so a ``<script>`` in a description can only ever show as text.

Markup: ``<div class="gr-code"><pre>...</pre></div>`` with token classes prefixed
``tok-`` (``tok-k`` keyword, ``tok-s`` string, ...), so they cannot clash with the
page's own classes. Optional line numbers are ``<span class="linenos">``, with
anchors ``id="gr-line-N"``; a marked line (an error's) is ``<span class="hll">``.

Input above `MAX_HIGHLIGHT_BYTES` is not tokenized (some lexers are regex-heavy,
and a huge definition must not tie up a server thread): it is shown as escaped
plain text under a ``<p class="gr-code-note">`` saying why.

Colours: `highlight_css` scopes a light and a dark Pygments style under
``[data-theme=light|dark]`` (the attribute on ``<html>``) and, with no attribute,
follows ``prefers-color-scheme``. Both styles were picked because every token
colour reaches WCAG AA contrast (4.5:1) on their background (the tests check it).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

from pygments import highlight as _pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import GraphQLLexer, JsonLexer, ProtoBufLexer, TextLexer, YamlLexer
from pygments.style import Style
from pygments.styles import get_style_by_name
from pygments.token import Error, Token, Whitespace

__all__ = [
    "CSS_CLASS",
    "DARK_STYLE",
    "LIGHT_STYLE",
    "MAX_HIGHLIGHT_BYTES",
    "TOKEN_PREFIX",
    "highlight",
    "highlight_css",
    "language_for",
]

CSS_CLASS = "gr-code"
TOKEN_PREFIX = "tok-"
NOTE_CLASS = "gr-code-note"
LINE_ANCHOR = "gr-line"
MAX_HIGHLIGHT_BYTES = 256 * 1024
LIGHT_STYLE = "default"  # lowest token contrast 4.5:1 on #f8f8f8
DARK_STYLE = "github-dark"  # lowest token contrast 5.6:1 on #0d1117

# The background of a marked line; chosen so every token colour of the style
# still reaches 4.5:1 on it (Pygments' own github-dark highlight is far too light).
_MARK_BACKGROUND = {LIGHT_STYLE: "#ffffcc", DARK_STYLE: "#2d2410"}
_FALLBACK_TEXT = {LIGHT_STYLE: "#1f2328", DARK_STYLE: "#e6edf3"}
_LINENO_COLOR = {LIGHT_STYLE: "#636363", DARK_STYLE: "#8b949e"}

_LEXERS: dict[str, Callable[..., Lexer]] = {
    "yaml": YamlLexer,
    "json": JsonLexer,
    "graphql": GraphQLLexer,
    "protobuf": ProtoBufLexer,
    "text": TextLexer,
}
# API `spec.type`s (and common spellings) to the lexer that reads them.
_ALIASES = {
    "yml": "yaml",
    "grpc": "protobuf",
    "proto": "protobuf",
    "gql": "graphql",
    "plain": "text",
}
# Types whose definitions may be written in YAML or in JSON.
_SNIFFED = frozenset(("openapi", "asyncapi", "swagger", "yaml", "json"))


def language_for(text: str, language: str) -> str:
    """The lexer name used for `language` (an API `spec.type` or a lexer name):
    ``yaml``, ``json``, ``graphql``, ``protobuf``, or ``text`` for anything unknown."""
    name = (language or "").strip().lower()
    if name in _SNIFFED:
        # JSON definitions start with `{`; anything else is read as YAML.
        return "json" if text[:256].lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "yaml"
    name = _ALIASES.get(name, name)
    return name if name in _LEXERS else "text"


def highlight(
    text: str,
    language: str,
    *,
    line_numbers: bool = False,
    mark_line: int | None = None,
) -> str:
    """`text` as highlighted, escaped HTML in a ``<div class="gr-code">``.

    `language` is an API type (``openapi``, ``asyncapi``, ``graphql``, ``grpc``...) or a
    lexer name; unknown ones give plain escaped text. `mark_line` (1-based) highlights
    one line, e.g. where a parse error is.
    """
    text = text if isinstance(text, str) else ""
    name = language_for(text, language)
    note = ""
    if _too_big(text):
        name = "text"
        # Line-number markup would multiply a huge text's size many times over.
        line_numbers, mark_line = False, None
        note = (
            f'<p class="{NOTE_CLASS}">Syntax highlighting is off: the definition is larger '
            f"than {MAX_HIGHLIGHT_BYTES // 1024} KiB.</p>"
        )
    formatter = HtmlFormatter(
        cssclass=CSS_CLASS,
        classprefix=TOKEN_PREFIX,
        nowrap=False,
        linenos="inline" if line_numbers else False,
        lineanchors=LINE_ANCHOR if line_numbers else "",
        hl_lines=[mark_line] if mark_line else [],
    )
    # stripnl=False keeps leading blank lines, so line numbers match the source's.
    lexer = _LEXERS[name](stripnl=False)
    try:
        out = _pygments_highlight(text, lexer, formatter)
    except Exception:  # a lexer bug must not lose the definition: show it plain
        out = f'<div class="{CSS_CLASS}"><pre>{html.escape(text)}</pre></div>'
    # tabindex: the block scrolls, so keyboard users must be able to focus it (WCAG 2.1.1).
    out = out.replace("<pre>", '<pre tabindex="0">', 1)
    return out.replace(f'<div class="{CSS_CLASS}">', f'<div class="{CSS_CLASS}">{note}', 1)


def _too_big(text: str) -> bool:
    if len(text) <= MAX_HIGHLIGHT_BYTES // 4:  # cannot be over the limit in UTF-8
        return False
    return len(text.encode("utf-8", "surrogatepass")) > MAX_HIGHLIGHT_BYTES


def _theme(style_name: str) -> type[Style]:
    """The Pygments style with lexer error tokens shown as ordinary text (a lexer's
    opinion about a definition is noise on a docs page) and our marked-line colour."""
    base = get_style_by_name(style_name)
    styles = dict(base.styles)
    styles[Error] = ""
    styles[Whitespace] = ""  # invisible anyway; one colour less to keep legible
    return type(
        f"Greenroom_{style_name.replace('-', '_')}",
        (base,),
        {"styles": styles, "highlight_color": _MARK_BACKGROUND[style_name]},
    )


def _theme_rules(style_name: str, scopes: list[str]) -> list[str]:
    style = _theme(style_name)
    formatter = HtmlFormatter(style=style, classprefix=TOKEN_PREFIX)
    text = style.style_for_token(Token)["color"]
    color = f"#{text}" if text else _FALLBACK_TEXT[style_name]
    selectors = ", ".join(scopes)
    rules = [
        f"{selectors} {{ background: {style.background_color}; color: {color} }}",
        ", ".join(f"{s} .hll" for s in scopes)
        + f" {{ background-color: {style.highlight_color} }}",
        ", ".join(f"{s} .linenos" for s in scopes) + f" {{ color: {_LINENO_COLOR[style_name]} }}",
    ]
    rules.extend(formatter.get_token_style_defs(scopes))
    return rules


@functools.cache
def highlight_css() -> str:
    """CSS for `highlight` output: layout, a light and a dark theme.

    ``data-theme`` on ``<html>`` picks one; without it the OS preference decides.
    The light and dark selectors never match together, so a token one style
    colours and the other leaves alone cannot leak into the wrong theme.
    """
    root = f".{CSS_CLASS}"
    light_scopes = [f"[data-theme=light] {root}"]
    dark_scopes = [f"[data-theme=dark] {root}"]
    layout = [
        f"{root} {{ border-radius: 6px; overflow: hidden }}",
        f"{root} pre {{ margin: 0; padding: 0.75rem 1rem; overflow: auto; "
        "line-height: 1.45; tab-size: 4; white-space: pre }",
        f"{root} .linenos {{ user-select: none; display: inline-block; "
        "min-width: 3ch; text-align: right; margin-right: 1.5ch }",
        f"{root} .{NOTE_CLASS} {{ margin: 0; padding: 0.5rem 1rem; font-style: italic }}",
    ]

    def block(rules: list[str], media: str | None = None) -> str:
        if media is None:
            return "\n".join(rules)
        return f"@media {media} {{\n" + "\n".join("  " + r for r in rules) + "\n}"

    parts = [
        f"/* Pygments '{LIGHT_STYLE}' (light) and '{DARK_STYLE}' (dark) for .{CSS_CLASS} */",
        block(layout),
        block(_theme_rules(LIGHT_STYLE, light_scopes)),
        block(
            _theme_rules(LIGHT_STYLE, [f":root:not([data-theme=dark]) {root}"]),
            "not all and (prefers-color-scheme: dark)",
        ),
        block(_theme_rules(DARK_STYLE, dark_scopes)),
        block(
            _theme_rules(DARK_STYLE, [f":root:not([data-theme=light]) {root}"]),
            "(prefers-color-scheme: dark)",
        ),
    ]
    return "\n".join(parts) + "\n"
