"""Highlighted definitions: escaped always, bounded in size, legible in both themes."""

from __future__ import annotations

import html
import re

import pytest

from greenroom.catalog.apidocs.highlight import (
    CSS_CLASS,
    MAX_HIGHLIGHT_BYTES,
    highlight,
    highlight_css,
    language_for,
)

SCRIPT = "<script>alert('x')</script>"

SAMPLES = {
    "openapi": f"openapi: 3.0.0\ninfo:\n  title: T\n  description: {SCRIPT} & more\n",
    "asyncapi": f'{{"asyncapi": "2.6.0", "info": {{"description": "{SCRIPT}"}}}}',
    "graphql": f'"""{SCRIPT}"""\ntype Query {{\n  hello: String # {SCRIPT}\n}}\n',
    "grpc": f'syntax = "proto3";\n// {SCRIPT}\nmessage A {{ string name = 1; }}\n',
    "trpc": f"export const x = '{SCRIPT}';\n",
    "": f"{SCRIPT}\n",
}


def text_of(markup: str) -> str:
    """The text a browser shows for highlight output (without line numbers)."""
    markup = re.sub(r'<span class="linenos">[^<]*</span>', "", markup)
    markup = re.sub(r'<p class="gr-code-note">.*?</p>', "", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.mark.parametrize("language", list(SAMPLES))
def test_user_text_is_always_escaped(language: str):
    source = SAMPLES[language]
    for out in (
        highlight(source, language),
        highlight(source, language, line_numbers=True, mark_line=2),
        highlight(source + " " * MAX_HIGHLIGHT_BYTES, language),  # the plain, oversize path
    ):
        assert "<script" not in out.lower()
        assert "&lt;script&gt;" in out
        assert out.startswith(f'<div class="{CSS_CLASS}">')
        # only the formatter's own tags remain
        tags = set(re.findall(r"<(/?[a-z]+)", out))
        assert tags <= {"div", "/div", "pre", "/pre", "span", "/span", "a", "/a", "p", "/p"}
        assert text_of(out).rstrip("\n ") == source.rstrip("\n ")


@pytest.mark.parametrize(
    ("language", "text", "lexer"),
    [
        ("openapi", "openapi: 3.0.0\n", "yaml"),
        ("OpenAPI", '  {"openapi": "3.0.0"}', "json"),
        ("asyncapi", "asyncapi: 3.0.0\n", "yaml"),
        ("asyncapi", '{"asyncapi": "3.0.0"}', "json"),
        ("graphql", "type Q { a: Int }", "graphql"),
        ("grpc", "syntax = 'proto3';", "protobuf"),
        ("protobuf", "message A {}", "protobuf"),
        ("trpc", "router({})", "text"),
        ("", "anything", "text"),
        ("yaml", "[1]", "json"),
    ],
)
def test_language_for(language: str, text: str, lexer: str):
    assert language_for(text, language) == lexer


def test_known_languages_get_token_classes():
    assert 'class="tok-nt"' in highlight("openapi: 3.0.0\n", "openapi")  # YAML key
    assert 'class="tok-nt"' in highlight('{"openapi": "3.0.0"}', "openapi")  # JSON key
    assert 'class="tok-k"' in highlight("type Query { a: Int }\n", "graphql")
    assert 'class="tok-k' in highlight("message A { string name = 1; }\n", "grpc")
    plain = highlight("export const a = 1;\n", "trpc")
    assert "tok-k" not in plain and "export const a = 1;" in plain


def test_line_numbers_and_marked_line_match_the_source():
    # leading blank lines must not be dropped, or line numbers would shift
    out = highlight("\n\nbad: [\nok: 1\n", "text", line_numbers=True, mark_line=3)
    assert 'id="gr-line-3"' in out and 'id="gr-line-4"' in out
    assert re.search(r'<span class="hll"><span class="linenos">3</span>bad: \[', out)
    assert out.count('class="hll"') == 1


def test_huge_input_is_not_tokenized():
    big = "key: value\n" * (MAX_HIGHLIGHT_BYTES // 11 + 10)
    out = highlight(big, "openapi")
    assert 'class="gr-code-note"' in out and "larger than 256 KiB" in out
    assert "tok-nt" not in out
    small = highlight("key: value\n" * 10, "openapi")
    assert "gr-code-note" not in small


def test_non_text_input_gives_an_empty_block():
    out = highlight(None, "openapi")  # type: ignore[arg-type]
    assert out.startswith(f'<div class="{CSS_CLASS}">') and text_of(out).strip() == ""


# --------------------------------------------------------------------------
# CSS
# --------------------------------------------------------------------------


def _luminance(color: str) -> float:
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    channels = [int(color[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_rules(css: str, scope: str) -> list[str]:
    return [line.strip() for line in css.splitlines() if line.strip().startswith(scope)]


THEMES = [
    "[data-theme=light] .gr-code",
    ":root:not([data-theme=dark]) .gr-code",
    "[data-theme=dark] .gr-code",
    ":root:not([data-theme=light]) .gr-code",
]


@pytest.mark.parametrize("scope", THEMES)
def test_every_colour_meets_wcag_aa(scope: str):
    rules = theme_rules(highlight_css(), scope)
    (base,) = [r for r in rules if r.startswith(scope + " {")]
    background = re.search(r"background: (#[0-9a-fA-F]+)", base)[1]  # type: ignore[index]
    text = re.search(r"[^-]color: (#[0-9a-fA-F]+)", base)[1]  # type: ignore[index]
    (hll,) = [r for r in rules if ".hll" in r]
    marked = re.search(r"background-color: (#[0-9a-fA-F]+)", hll)[1]  # type: ignore[index]
    checked = 0
    for rule in [*rules, f"{scope} .text {{ color: {text} }}"]:
        if rule in (base, hll):
            continue
        found = re.search(r"(?<![-\w])color: (#[0-9a-fA-F]+)", rule)
        if not found:
            continue
        own = re.search(r"background-color: (#[0-9a-fA-F]+)", rule)  # diff lines have their own
        for behind in [own[1]] if own else [background, marked]:
            assert contrast(found[1], behind) >= 4.5, (rule, behind)
        checked += 1
    assert checked > 20


def test_css_is_scoped_and_themes_are_exclusive():
    css = highlight_css()
    selectors = [
        line.split("{")[0].strip()
        for line in css.splitlines()
        if "{" in line and not line.startswith("@media")
    ]
    for selector in selectors:
        for part in selector.split(","):
            assert ".gr-code" in part, part  # nothing leaks onto the page (`pre { }`...)
    assert "@media (prefers-color-scheme: dark) {" in css
    assert "@media not all and (prefers-color-scheme: dark) {" in css
    for scope in THEMES:
        assert theme_rules(css, scope + " .tok-k"), scope
    # the media-query themes only apply without an explicit choice the other way
    dark_media = css.split("@media (prefers-color-scheme: dark) {")[1]
    assert "[data-theme=light]" in dark_media and "[data-theme=dark] .gr-code" not in dark_media
    assert highlight_css() is css  # built once
