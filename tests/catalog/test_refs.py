"""Entity and location references (catalog.md §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenroom.catalog.model import (
    EntityRef,
    entity_ref_of,
    parse_entity_ref,
    parse_location_ref,
    stringify_entity_ref,
    stringify_location_ref,
)
from greenroom.catalog.model.formats import JS_WHITESPACE
from greenroom.errors import InputError

NOT_ON_THE_FORM = 'Entity reference "{}" was not on the form [<kind>:][<namespace>/]<name>'
MISSING_KIND = 'Entity reference "{}" had missing or empty kind (e.g. did not start with "component:" or similar)'


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("component:default/foo", EntityRef("component", "default", "foo")),
        ("Component:Default/Foo", EntityRef("Component", "Default", "Foo")),
        ("component:foo", EntityRef("component", "default", "foo")),
        ("component:ns/foo", EntityRef("component", "ns", "foo")),
        # a "/" before the first ":" means there is no kind
        ("ns/foo:bar", EntityRef("Group", "ns", "foo:bar")),
        ("foo", EntityRef("Group", "default", "foo")),
        ("ns/foo", EntityRef("Group", "ns", "foo")),
        # the name takes the rest, "/" and ":" included
        ("k:ns/a/b/c", EntityRef("k", "ns", "a/b/c")),
        ("k:n:c", EntityRef("k", "default", "n:c")),
        ("k:ns:x/n", EntityRef("k", "ns:x", "n")),
        # refs are not checked against the naming rules
        ("web@example.com", EntityRef("Group", "default", "web@example.com")),
    ],
)
def test_parse_entity_ref(ref: str, expected: EntityRef) -> None:
    assert parse_entity_ref(ref, default_kind="Group") == expected


def test_parse_entity_ref_defaults() -> None:
    assert parse_entity_ref("foo", default_kind="API", default_namespace="money") == EntityRef(
        "API", "money", "foo"
    )
    # an empty default namespace falls back to "default", like Backstage's `||`
    assert parse_entity_ref("foo", default_kind="API", default_namespace="") == EntityRef(
        "API", "default", "foo"
    )
    assert parse_entity_ref("x:y/z", default_kind="API", default_namespace="money") == EntityRef(
        "x", "y", "z"
    )


def test_parse_compound_ref() -> None:
    ref = parse_entity_ref({"kind": "Group", "name": "team-a"})  # type: ignore[arg-type]
    assert ref == EntityRef("Group", "default", "team-a")


@pytest.mark.parametrize("ref", [":foo", "a:/b", "a:b/", "a:", "/b", "a/", ":", "k:/", "ns/"])
def test_parse_entity_ref_malformed(ref: str) -> None:
    with pytest.raises(InputError) as info:
        parse_entity_ref(ref, default_kind="Group")
    assert info.value.message == NOT_ON_THE_FORM.format(ref)


def test_parse_entity_ref_empty() -> None:
    with pytest.raises(InputError) as info:
        parse_entity_ref("", default_kind="Group")
    assert info.value.message == "Entity reference must not be empty"


@pytest.mark.parametrize("ref", ["foo", "ns/foo", 'with"quote'])
def test_parse_entity_ref_without_kind(ref: str) -> None:
    with pytest.raises(InputError) as info:
        parse_entity_ref(ref)
    escaped = ref.replace('"', '\\"')
    assert info.value.message == MISSING_KIND.format(escaped)


def test_entity_ref_str_is_canonical_lowercase() -> None:
    ref = parse_entity_ref("Component:Ns/My-Service")
    assert (ref.kind, ref.namespace, ref.name) == ("Component", "Ns", "My-Service")
    assert str(ref) == "component:ns/my-service"


def test_stringify_entity_ref() -> None:
    assert stringify_entity_ref("Component", None, "Foo") == "component:default/foo"
    assert stringify_entity_ref("Component", "NS", "Foo") == "component:ns/foo"


def test_entity_ref_of() -> None:
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "Team-A"},
    }
    assert entity_ref_of(entity) == "group:default/team-a"
    entity["metadata"]["namespace"] = "money"
    assert entity_ref_of(entity) == "group:money/team-a"


# -- location references ------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (
            "url:https://github.com/o/r/blob/main/catalog-info.yaml",
            ("url", "https://github.com/o/r/blob/main/catalog-info.yaml"),
        ),
        ("file:/abs/path/catalog-info.yaml", ("file", "/abs/path/catalog-info.yaml")),
        (" file : /x ", ("file", "/x")),
        ("sysmodel:a:b:c", ("sysmodel", "a:b:c")),
    ],
)
def test_parse_location_ref(ref: str, expected: tuple[str, str]) -> None:
    assert parse_location_ref(ref) == expected


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "",
            "Unable to parse location ref '', expected '<type>:<target>', e.g. 'url:https://host/path'",
        ),
        (
            "hello",
            "Unable to parse location ref 'hello', expected '<type>:<target>', e.g. 'url:https://host/path'",
        ),
        (
            ":hello",
            "Unable to parse location ref ':hello', expected '<type>:<target>', e.g. 'url:https://host/path'",
        ),
        (
            "hello:",
            "Unable to parse location ref 'hello:', expected '<type>:<target>', e.g. 'url:https://host/path'",
        ),
        (
            "http://blah",
            "Invalid location ref 'http://blah', please prefix it with 'url:', e.g. 'url:http://blah'",
        ),
        (
            "https://bleh",
            "Invalid location ref 'https://bleh', please prefix it with 'url:', e.g. 'url:https://bleh'",
        ),
        (
            "url:javascript:alert(1)",
            "Invalid location ref 'url:javascript:alert(1)', target is a javascript: URL",
        ),
    ],
)
def test_parse_location_ref_errors(ref: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_location_ref(ref)
    assert info.value.message == message


def test_parse_location_ref_not_a_string() -> None:
    with pytest.raises(InputError) as info:
        parse_location_ref(7)  # type: ignore[arg-type]
    assert info.value.message == "Unable to parse location ref '7', unexpected argument number"


def test_stringify_location_ref() -> None:
    assert stringify_location_ref("url", "https://x/y") == "url:https://x/y"
    with pytest.raises(InputError, match="empty type"):
        stringify_location_ref("", "x")
    with pytest.raises(InputError, match="empty target"):
        stringify_location_ref("url", "")


# -- properties ---------------------------------------------------------------

# kinds as the kind rule allows; namespaces as DNS labels; names anything
# non-empty (refs are not validated against the naming rules)
kinds = st.from_regex(r"\A[A-Za-z][A-Za-z0-9]{0,20}\Z")
namespaces = st.from_regex(r"\A[a-z0-9]+(-+[a-z0-9]+)*\Z").filter(lambda s: len(s) <= 63)
names = st.text(min_size=1, max_size=40)


@given(kinds, namespaces, names)
def test_round_trip_stringify_parse(kind: str, namespace: str, name: str) -> None:
    canonical = stringify_entity_ref(kind, namespace, name)
    parsed = parse_entity_ref(canonical)
    assert parsed == EntityRef(kind.lower(), namespace.lower(), name.lower())
    assert str(parsed) == canonical
    assert stringify_entity_ref(parsed.kind, parsed.namespace, parsed.name) == canonical


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: ":" not in s and "/" not in s),
    st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s),
    names,
)
def test_full_refs_keep_their_parts(kind: str, namespace: str, name: str) -> None:
    assert parse_entity_ref(f"{kind}:{namespace}/{name}") == EntityRef(kind, namespace, name)


@given(st.text(min_size=1, max_size=40))
def test_canonical_form_is_a_fixed_point(text: str) -> None:
    try:
        ref = parse_entity_ref(text, default_kind="Component", default_namespace="ns")
    except InputError:
        return
    canonical = str(ref)
    assert str(parse_entity_ref(canonical)) == canonical


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: ":" not in s),
    st.text(min_size=1, max_size=40),
)
def test_location_ref_round_trip(type_: str, target: str) -> None:
    type_, target = type_.strip(JS_WHITESPACE), target.strip(JS_WHITESPACE)
    if (
        not type_
        or not target
        or type_ in ("http", "https")
        or target.lower().startswith("javascript:")
    ):
        return
    assert parse_location_ref(stringify_location_ref(type_, target)) == (type_, target)
