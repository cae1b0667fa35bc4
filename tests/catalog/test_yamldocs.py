"""Multi-document YAML parsing: errors per document, bombs, YAML 1.2 values, field lines."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from greenroom.catalog.reading import YamlDocument, locate_field_line, parse_documents, yamldocs
from greenroom.errors import InputError

SOURCE = "file:/catalog/catalog-info.yaml"


def parse(text: str | bytes, **kwargs):
    return parse_documents(text, source=SOURCE, **kwargs)


def only_error(text: str | bytes, **kwargs) -> InputError:
    docs, errors = parse(text, **kwargs)
    assert docs == []
    assert len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, InputError)
    assert error.file == SOURCE
    return error


# --------------------------------------------------------------------------
# documents, lines, indexes
# --------------------------------------------------------------------------


def test_documents_with_lines_and_indexes():
    text = "# header\nkind: A\n---\nkind: B\nmetadata:\n  name: b\n---\n\n# c\nkind: C\n"
    docs, errors = parse(text)
    assert errors == []
    assert docs == [
        YamlDocument({"kind": "A"}, 2, 0),
        YamlDocument({"kind": "B", "metadata": {"name": "b"}}, 4, 1),
        YamlDocument({"kind": "C"}, 10, 2),
    ]


def test_bytes_and_str_give_the_same_result():
    text = "a: é\n---\nb: 2\n"
    assert parse(text) == parse(text.encode())


def test_crlf_and_cr_line_ends():
    for sep in ("\r\n", "\r"):
        text = sep.join(["a: 1", "---", "b: 2", "c: [", "---", "d: 4", ""])
        docs, errors = parse(text)
        assert [(d.data, d.line) for d in docs] == [({"a": 1}, 1), ({"d": 4}, 6)]
        assert errors[0].line == 4


def test_utf16_and_utf8_bom():
    assert parse("a: 1\n".encode("utf-16"))[0][0].data == {"a": 1}
    assert parse(b"\xef\xbb\xbfa: 1\n---\nb: 2\n")[0][1].data == {"b": 2}


def test_one_broken_document_in_the_middle():
    text = "kind: A\n---\nkind: B\nmetadata:\n  name: [x,\n---\nkind: C\n"
    docs, errors = parse(text)
    assert [d.data["kind"] for d in docs] == ["A", "C"]
    assert [d.index for d in docs] == [0, 2]
    assert docs[1].line == 7
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, InputError)
    assert error.message.startswith(f"YAML error at {SOURCE}, ")
    assert error.file == SOURCE
    # the flow sequence is cut off by the `---` on line 6: the error names the
    # broken document's last line, not the next document's marker
    assert error.line == 5
    assert "end of the document (line 5)" in error.message


def test_unclosed_bracket_at_the_end_of_the_file():
    error = only_error("a: 1\nb: [x,\n\n\n")
    assert error.line == 2


def test_syntax_error_line_is_the_file_line():
    text = "a: 1\n---\nb: 1\n---\nc: 1\nd: 2\n  e: 3\n"
    docs, errors = parse(text)
    assert [d.data for d in docs] == [{"a": 1}, {"b": 1}]
    assert errors[0].line == 7
    assert "mapping values are not allowed" in errors[0].message


def test_empty_and_null_documents_are_skipped():
    docs, errors = parse("---\n---\n~\n---\nnull\n---\n# only a comment\n---\na: 1\n---\n")
    assert errors == []
    assert [(d.data, d.line) for d in docs] == [({"a": 1}, 9)]
    assert parse("") == ([], [])
    assert parse("# nothing\n") == ([], [])


def test_non_mapping_documents():
    docs, errors = parse("- 1\n---\nhello\n---\n3\n---\ntrue\n---\nkind: ok\n")
    assert [d.data for d in docs] == [{"kind": "ok"}]
    assert [(e.message, e.line) for e in errors] == [
        ("Expected object at root, got array", 1),
        ("Expected object at root, got string", 3),
        ("Expected object at root, got number", 5),
        ("Expected object at root, got boolean", 7),
    ]
    assert all(e.file == SOURCE for e in errors)


def test_require_mapping_off_allows_any_root():
    docs, errors = parse("- 1\n- 2\n", require_mapping=False)
    assert errors == []
    assert docs[0].data == [1, 2]


def test_marker_lines_inside_scalars_do_not_split():
    text = "a: |\n  ---\n  text\nb: >\n  ... not an end\n---\nc: 1\n"
    docs, errors = parse(text)
    assert errors == []
    assert docs[0].data == {"a": "---\ntext\n", "b": "... not an end\n"}
    assert docs[1].data == {"c": 1}


def test_document_end_markers_and_directives():
    text = "%YAML 1.2\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n...\n# trailing\n"
    docs, errors = parse(text)
    assert errors == []
    assert [(d.data, d.line, d.index) for d in docs] == [({"a": 1}, 3, 0), ({"b": 2}, 7, 1)]


def test_content_on_the_marker_line():
    docs, errors = parse("--- {a: 1}\n--- !!map\nb: 2\n")
    assert errors == []
    assert [(d.data, d.line) for d in docs] == [({"a": 1}, 1), ({"b": 2}, 2)]  # the tag starts it


def test_invalid_bytes_and_control_characters():
    docs, errors = parse(b"a: 1\n---\nb: \xff\n---\nc: \x01\n---\nd: 4\n")
    assert [d.data for d in docs] == [{"a": 1}, {"d": 4}]
    assert [e.line for e in errors] == [3, 5]
    assert "UTF-8" in errors[0].message
    assert "control characters" in errors[1].message


# --------------------------------------------------------------------------
# values: YAML 1.2 core schema, like Backstage
# --------------------------------------------------------------------------


def test_core_schema_scalars():
    text = (
        "yes: yes\non: off\ndate: 2024-01-31\noctal_11: 0777\noctal_12: 0o17\nhex: 0x1F\n"
        "sexagesimal: 1:30\nint: -12\nfloat: 1.5\nexp: 1e3\ninf: -.inf\nnull1: ~\nnull2:\n"
        "bool: True\nquoted: 'true'\nstr: !!str 12\nbinary: !!binary aGk=\ncustom: !thing x\n"
    )
    (doc,), errors = parse(text)
    assert errors == []
    assert doc.data == {
        "yes": "yes",
        "on": "off",
        "date": "2024-01-31",
        "octal_11": 777,
        "octal_12": 15,
        "hex": 31,
        "sexagesimal": "1:30",
        "int": -12,
        "float": 1.5,
        "exp": 1000.0,
        "inf": float("-inf"),
        "null1": None,
        "null2": None,
        "bool": True,
        "quoted": "true",
        "str": "12",
        "binary": "aGk=",
        "custom": "x",
    }


def test_keys_are_strings_like_in_json():
    (doc,), errors = parse("1: a\ntrue: b\nnull: c\n1.5: d\n2.0: e\n")
    assert errors == []
    assert doc.data == {"1": "a", "true": "b", "": "c", "1.5": "d", "2": "e"}


def test_complex_keys_refused():
    error = only_error("? [a, b]\n: 1\n")
    assert error.line == 1
    assert "complex mapping keys" in error.message


def test_bad_explicit_tag_value():
    error = only_error("a: 1\nb: !!int twelve\n")
    assert error.line == 2
    assert "twelve" in error.message


# --------------------------------------------------------------------------
# merge keys and duplicate keys
# --------------------------------------------------------------------------


def test_merge_keys_are_refused():
    text = "base: &base {owner: a}\nspec:\n  <<: *base\n  type: service\n"
    error = only_error(text)
    assert error.line == 3
    assert "merge keys" in error.message


def test_inline_merge_key_is_refused_too():
    error = only_error("spec:\n  type: x\n  <<: {owner: a}\n")
    assert error.line == 3


def test_quoted_merge_key_and_merge_value_are_plain_strings():
    (doc,), errors = parse("a:\n  '<<': 1\n  b: <<\n")
    assert errors == []
    assert doc.data == {"a": {"<<": 1, "b": "<<"}}


def test_duplicate_keys_are_refused_with_both_lines():
    text = "kind: A\n---\nkind: B\nmetadata:\n  name: x\n  title: t\n  name: y\n---\nkind: C\n"
    docs, errors = parse(text)
    assert [d.data["kind"] for d in docs] == ["A", "C"]
    (error,) = errors
    assert error.line == 7
    assert '"name"' in error.message
    assert "line 5" in error.message
    assert "unique" in error.message


def test_duplicate_keys_after_stringification():
    error = only_error("1: a\n'1': b\n")
    assert error.line == 2


# --------------------------------------------------------------------------
# bombs and deep nesting
# --------------------------------------------------------------------------

LOL = """\
lol0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
lol1: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
lol2: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
lol3: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
lol4: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
lol5: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
lol6: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
lol7: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
lol8: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused_quickly():
    start = time.perf_counter()
    docs, errors = parse("kind: ok\n---\n" + LOL + "---\nkind: after\n")
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5
    assert [d.data["kind"] for d in docs] == ["ok", "after"]
    (error,) = errors
    assert "more than 100000 nodes" in error.message
    assert 3 <= error.line <= 11


def test_small_alias_budget_applies():
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    assert parse(text)[1] == []
    error = only_error(text, max_aliases_nodes=10)
    assert "more than 10 nodes" in error.message


def test_aliases_are_expanded_into_copies():
    (doc,), errors = parse("a: &x {k: [1]}\nb: *x\n")
    assert errors == []
    assert doc.data == {"a": {"k": [1]}, "b": {"k": [1]}}
    assert doc.data["a"] is not doc.data["b"]
    assert doc.data["a"]["k"] is not doc.data["b"]["k"]


def test_deep_alias_chain_is_refused():
    lines = ["- &a0 [x]"] + [f"- &a{i} [*a{i - 1}]" for i in range(1, 2000)]
    start = time.perf_counter()
    error = only_error("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1
    assert "deeper than 200 levels" in error.message


def test_recursive_alias_is_refused():
    error = only_error("a: &a\n  b: *a\n")
    assert "recursive" in error.message


@pytest.mark.parametrize("style", ["flow", "block"])
def test_ten_thousand_nested_lists_are_refused(style):
    n = 10_000
    flow = "x: " + "[" * n + "]" * n + "\n"
    block = "x:\n" + "- " * n + "leaf\n"  # compact nested block sequences
    text = flow if style == "flow" else block
    start = time.perf_counter()
    docs, errors = parse("kind: before\n---\n" + text + "---\nkind: after\n")
    assert time.perf_counter() - start < 2
    assert [d.data["kind"] for d in docs] == ["before", "after"]
    (error,) = errors
    assert "nested deeper than 200 levels" in error.message
    assert error.line >= 3


def test_max_depth_is_configurable():
    text = "a: " + "[" * 20 + "]" * 20 + "\n"
    assert parse(text)[1] == []
    assert "deeper than 10" in only_error(text, max_depth=10).message


def test_recursion_error_is_an_input_error():
    text = "a: " + "[" * 3000 + "]" * 3000 + "\n"
    error = only_error(text, max_depth=5000)
    assert error.file == SOURCE


# --------------------------------------------------------------------------
# agreement with PyYAML on ordinary documents
# --------------------------------------------------------------------------

# Strings that YAML 1.1 (PyYAML's dumper) writes unquoted but YAML 1.2 reads as numbers,
# such as "0E0" or "0o17": Backstage reads them as numbers too, so they cannot round-trip.
_NUMBER_12 = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
)
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20
).filter(lambda s: not _NUMBER_12.fullmatch(s))
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_text, _values, min_size=1, max_size=5), min_size=1, max_size=5))
def test_round_trip_of_dumped_documents(documents):
    text = yaml.safe_dump_all(documents, allow_unicode=True)
    docs, errors = parse(text)
    assert errors == []
    assert [d.data for d in docs] == documents
    assert [d.index for d in docs] == list(range(len(documents)))


# --------------------------------------------------------------------------
# locate_field_line
# --------------------------------------------------------------------------

FIELD_TEXT = """\
apiVersion: v1
kind: Component
metadata:
  name: first
---
# the second one
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: second
  tags: [a, b,
    c]
  annotations:
    backstage.io/techdocs-ref: dir:.
    github.com/project-slug: org/repo
    backstage.io: short
  links:
    - url: https://example.com
      title: Home
spec:
  owner: team-a
  list:
  - one
  - two
"""


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("spec.owner", 21),
        ("spec", 20),
        ("metadata.name", 10),
        ("metadata.tags.2", 12),
        ("metadata.tags.0", 11),
        ("metadata.annotations.backstage.io/techdocs-ref", 14),
        ("metadata.annotations.github.com/project-slug", 15),
        ("metadata.annotations.backstage.io", 16),
        ("metadata.links.0.title", 19),
        ("spec.list.1", 24),
        ("spec.missing", None),
        ("metadata.tags.9", None),
    ],
)
def test_locate_field_line(field, line):
    docs, _ = parse(FIELD_TEXT)
    assert locate_field_line(FIELD_TEXT, docs[1].line, field) == line


def test_locate_field_line_in_first_document_and_nearest():
    assert locate_field_line(FIELD_TEXT, 1, "metadata.name") == 4
    assert locate_field_line(FIELD_TEXT, 5, "spec.owner") == 21  # any line of the document
    assert locate_field_line(FIELD_TEXT, 7, "spec.lifecycle") is None
    assert locate_field_line(FIELD_TEXT, 7, "spec.lifecycle", nearest=True) == 20


# --------------------------------------------------------------------------
# speed
# --------------------------------------------------------------------------


def _entities(n: int) -> str:
    doc = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i}\n"
        "  description: Service number {i} of the payments platform\n"
        "  tags: [python, grpc, tier-2]\n  annotations:\n"
        "    backstage.io/techdocs-ref: dir:.\n    github.com/project-slug: acme/svc-{i}\n"
        "  links:\n  - url: https://svc-{i}.example.com\n    title: Home\n"
        "spec:\n  type: service\n  lifecycle: production\n  owner: team-{i}\n"
        "  system: payments\n  providesApis: [svc-{i}-api]\n  dependsOn:\n"
        "  - resource:db-{i}\n  - component:auth\n"
    )
    return "---\n".join(doc.format(i=i) for i in range(n))


@pytest.mark.slow
def test_not_slower_than_plain_csafeloader():
    data = _entities(3000).encode()

    def best(fn):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    ours = best(lambda: parse(data))
    plain = best(lambda: list(yaml.load_all(data, Loader=yaml.CSafeLoader)))
    assert ours < plain * 1.3, (ours, plain)


# --------------------------------------------------------------------------
# the fast path (yaml_rs) reads every document it takes as libyaml's path does
# --------------------------------------------------------------------------


def careful_and_fast(text: str | bytes, monkeypatch: pytest.MonkeyPatch):
    def outcome():
        docs, errors = parse(text)
        return [(d.data, d.line, d.index) for d in docs], [(e.message, e.line) for e in errors]

    fast = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(yamldocs, "_yaml_rs", None)
        careful = outcome()
    # NaN is not equal to itself: compare the encoded forms.
    return repr(fast), repr(careful)


def test_plain_entities_take_the_fast_path():
    text = (
        b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n"
        b"  tags: [java, payments]\n  annotations:\n    github.com/project-slug: acme/checkout\n"
        b"  links:\n    - url: https://example.com/docs?x=1\n      title: Docs\n"
        b"spec:\n  type: service\n  owner: team-a\n  description: |\n    Two\n    lines.\n"
    )
    fast = yamldocs._parse_fast(text, 200)
    assert fast is not None
    assert fast[0]["metadata"]["tags"] == ["java", "payments"]
    assert fast[0]["spec"]["description"] == "Two\nlines.\n"


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\nb: 0777\nc: 1:30\nd: 2024-01-01\ne: 0o17\nf: .inf\ng: ~\nh: 1e3\ni: '1'\n",
        "a: 1_000\nb: _1\nc: 0b11\nd: -0x1F\ne: 0X1F\nf: -9._\n",  # numbers saphyr reads
        "1: a\nnull: b\ntrue: c\n",  # keys become strings
        "a: 1\na: 2\n",  # repeated key
        "a: |\n\nb: 1\n",  # empty block scalar
        "a: |2\n  x\n  \n",  # indentation indicator
        "a: >+\n  x\n\n",  # kept final lines
        "a: |\n  no final line break",
        "a: [>c, |d]\n",
        "a: [b:c:]\nb: [x:, y]\n",
        "a: {b\n c: d}\n",  # a key over two lines in brackets
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? [a]\n: b\n",
        "a: b\u2028c\n",
        "a: b\x85c\n",
        "a: b\x01c\n",
        'a: "\\x41\\u00e9\\N\\_\\L\\P\\e"\n',
        "%YAML 1.2\n---\na: 1\n...\n",
        "- a\n- b\n",
        "just text\n",
        "--- # only a comment\n",
        "---\n# head\n\napiVersion: v1\n",
        "a: 1\r\nb: [x, y]\r\n",
        "k: " + "[" * 300 + "]" * 300 + "\n",
        "".join(" " * i + f"k{i}:\n" for i in range(250)),
    ],
)
def test_fast_and_careful_paths_agree(text, monkeypatch):
    fast, careful = careful_and_fast(text, monkeypatch)
    assert fast == careful


_SCALARS = st.one_of(
    st.sampled_from(
        [
            "null",
            "~",
            "True",
            "yes",
            "0777",
            "0x1F",
            "1e3",
            ".5",
            "-.inf",
            ".nan",
            "1:30",
            "+1",
            "-0",
            "1_0",
            "'q'",
            '"d\\u00e9"',
            "'it''s'",
            "",
            ":",
            "-",
            "a #c",
            "[a]",
            "{a: b}",
            "http://a.b/c?d=e",
            "a, b",
            "@x",
            "`x",
            "|",
            ">",
        ]
    ),
    st.text(alphabet="abXY019 -_.:#'\"\\/,[]{}?|>@`=~+é", max_size=8),
)


@st.composite
def _documents(draw, depth=0, indent=0) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from(["a", "key", "k-1", "Ü", '"q k"', "'s k'", "1", "x y"]))
        shape = draw(st.sampled_from(["scalar", "list", "block", "flow", "nested"]))
        pad = " " * indent
        if shape == "scalar" or depth > 2:
            lines.append(f"{pad}{key}: {draw(_SCALARS)}")
        elif shape == "list":
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}- {s}" for s in draw(st.lists(_SCALARS, min_size=1, max_size=3))]
        elif shape == "block":
            lines.append(f"{pad}{key}: {draw(st.sampled_from(['|', '|-', '>', '>+', '|2']))}")
            lines += [f"{pad}  {s}" for s in draw(st.lists(_SCALARS, max_size=3))]
        elif shape == "flow":
            lines.append(f"{pad}{key}: [{', '.join(draw(st.lists(_SCALARS, max_size=3)))}]")
        else:
            lines.append(f"{pad}{key}:")
            lines.append(draw(_documents(depth + 1, indent + 2)))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_documents(), min_size=1, max_size=3), st.booleans())
def test_fast_and_careful_paths_agree_on_generated_documents(documents, crlf):
    text = "---\n".join(documents)
    if crlf:
        text = text.replace("\n", "\r\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, careful = careful_and_fast(text, monkeypatch)
    assert fast == careful
