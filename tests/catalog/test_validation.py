"""The validation pipeline (catalog.md §2), checked against Backstage's messages."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenroom.catalog.model import (
    BUILTIN_KINDS,
    KindDefinition,
    apply_policies,
    check_envelope,
    find_kind,
    validate_entity,
)
from greenroom.catalog.model.formats import (
    ADR_URL,
    check_field_formats,
    is_valid_entity_name,
    is_valid_namespace,
    is_valid_tag,
    is_valid_url,
)
from greenroom.catalog.model.schemas import KIND_SCHEMAS, compile_schema, first_error, kind_schema
from greenroom.catalog.model.validation import _validate_exact
from greenroom.errors import InputError, error_message, serialize_error
from tests.catalog.helpers import reference_dir

EXAMPLES = reference_dir() / "backstage-examples"
# A scaffolder skeleton full of ${{ }} expressions: not an entity (see the reference README).
SKELETONS = {
    "plugins/scaffolder-backend/sample-templates/bitbucket-demo/template/catalog-info.yaml"
}


def _resolve_placeholders(value: Any) -> Any:
    """Placeholders are resolved before validation; stand in a string for each."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("$text", "$json", "$yaml"):
            return "resolved placeholder"
        return {k: _resolve_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_placeholders(v) for v in value]
    return value


def example_documents() -> list[tuple[str, dict]]:
    if not EXAMPLES.is_dir():
        return []
    docs = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        rel = path.relative_to(EXAMPLES).as_posix()
        if rel.endswith(".oas.yaml") or rel in SKELETONS:
            continue
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                docs.append((f"{rel}#{index}", _resolve_placeholders(doc)))
    return docs


EXAMPLE_DOCS = example_documents()
needs_examples = pytest.mark.skipif(
    not EXAMPLE_DOCS, reason="Backstage reference examples not available"
)


def component(**spec_overrides: Any) -> dict:
    spec = {"type": "service", "lifecycle": "production", "owner": "team-a"}
    spec.update(spec_overrides)
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "my-service"},
        "spec": spec,
    }


def with_metadata(entity: dict, **metadata: Any) -> dict:
    entity = copy.deepcopy(entity)
    entity["metadata"].update(metadata)
    return entity


def invalid_field(field: str, expectation: str, value: str) -> str:
    return (
        f'"{field}" is not valid; expected {expectation} but found "{value}". '
        f"To learn more about catalog file format, visit: {ADR_URL}"
    )


OBJECT_NAME = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
PREFIX_SUFFIX = "a valid prefix and/or suffix"
DNS_LABEL = (
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
)
TAG = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"

POLICY = "Policy check failed for component:default/my-service; caused by Error: "
KIND_ERROR = (
    "Processor BuiltinKindsEntityProcessor threw an error while validating the entity "
    "component:default/my-service; caused by TypeError: "
)


def raises(entity: Any, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        validate_entity(entity, **kwargs)
    # the exact (step-by-step) path must agree with the fast path
    with pytest.raises(InputError) as exact:
        _validate_exact(
            entity, kwargs.get("kinds", BUILTIN_KINDS), kwargs.get("allow_unknown_kinds", False)
        )
    assert (exact.value.message, exact.value.field) == (info.value.message, info.value.field)
    return info.value


# -- the Backstage examples ---------------------------------------------------


@needs_examples
def test_examples_are_many() -> None:
    kinds = {doc["kind"] for _, doc in EXAMPLE_DOCS}
    assert kinds == {
        "API",
        "Component",
        "Domain",
        "Group",
        "Location",
        "Resource",
        "System",
        "Template",
        "User",
    }
    assert len(EXAMPLE_DOCS) >= 70


@needs_examples
@pytest.mark.parametrize(("where", "doc"), EXAMPLE_DOCS, ids=[where for where, _ in EXAMPLE_DOCS])
def test_example_is_valid(where: str, doc: dict) -> None:
    original = copy.deepcopy(doc)
    result = validate_entity(doc)
    assert doc == original, "the input must not be modified"
    assert result["metadata"]["namespace"] == doc["metadata"].get("namespace", "default")
    assert result == _validate_exact(doc, BUILTIN_KINDS, False)
    assert find_kind(result, BUILTIN_KINDS) is not None


def test_skeleton_template_is_not_an_entity() -> None:
    entity = component()
    entity["metadata"]["name"] = "${{values.name | dump}}"
    error = raises(entity)
    assert error.field == "metadata.name"


# -- results ------------------------------------------------------------------


def test_valid_entity_gets_default_namespace_without_touching_input() -> None:
    entity = component()
    result = validate_entity(entity)
    assert result["metadata"] == {"name": "my-service", "namespace": "default"}
    assert "namespace" not in entity["metadata"]
    assert result["spec"] is entity["spec"]  # no deep copies


def test_valid_entity_with_namespace_is_returned_as_is() -> None:
    entity = with_metadata(component(), namespace="money")
    assert validate_entity(entity) is entity


def test_beta_api_version_and_template_kind() -> None:
    entity = component()
    entity["apiVersion"] = "backstage.io/v1beta1"
    validate_entity(entity)
    template = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "t"},
        "spec": {"type": "service", "steps": [{"action": "fetch:template", "if": True}]},
    }
    validate_entity(template)


# -- envelope -----------------------------------------------------------------

ENVELOPE = "Entity envelope failed validation before processing; caused by TypeError: "


@pytest.mark.parametrize(
    ("entity", "message", "field"),
    [
        (["not", "a", "mapping"], "<root> must be object - type: object", None),
        (
            {"kind": "Component", "metadata": {"name": "x"}},
            "<root> must have required property 'apiVersion' - missingProperty: apiVersion",
            "apiVersion",
        ),
        (
            {"apiVersion": "", "kind": "Component", "metadata": {"name": "x"}},
            "/apiVersion must NOT have fewer than 1 characters - limit: 1",
            "apiVersion",
        ),
        (
            {"apiVersion": "a", "kind": 3, "metadata": {"name": "x"}},
            "/kind must be string - type: string",
            "kind",
        ),
        (
            {"apiVersion": "a", "kind": "K", "metadata": "x"},
            "/metadata must be object - type: object",
            "metadata",
        ),
        (
            {"apiVersion": "a", "kind": "K", "metadata": {}},
            "/metadata must have required property 'name' - missingProperty: name",
            "metadata.name",
        ),
        (
            {"apiVersion": "a", "kind": "K", "metadata": {"name": None}},
            "/metadata/name must be string - type: string",
            "metadata.name",
        ),
        (
            {"apiVersion": "a", "kind": "K", "metadata": {"name": "x", "namespace": ""}},
            "/metadata/namespace must NOT have fewer than 1 characters - limit: 1",
            "metadata.namespace",
        ),
    ],
)
def test_envelope(entity: Any, message: str, field: str | None) -> None:
    with pytest.raises(InputError) as info:
        check_envelope(entity)
    assert info.value.message == ENVELOPE + message
    assert info.value.field == field
    error = raises(entity)
    assert (error.message, error.field) == (ENVELOPE + message, field)


# -- policies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "message", "field"),
    [
        (
            {"name": "my service"},
            invalid_field("metadata.name", OBJECT_NAME, "my service"),
            "metadata.name",
        ),
        (
            {"name": "-service"},
            invalid_field("metadata.name", OBJECT_NAME, "-service"),
            "metadata.name",
        ),
        (
            {"name": "a" * 64},
            invalid_field("metadata.name", OBJECT_NAME, "a" * 64),
            "metadata.name",
        ),
        ({"name": "svc\n"}, invalid_field("metadata.name", OBJECT_NAME, "svc\n"), "metadata.name"),
        (
            {"namespace": "Default"},
            invalid_field("metadata.namespace", DNS_LABEL, "Default"),
            "metadata.namespace",
        ),
        (
            {"namespace": "my_ns"},
            invalid_field("metadata.namespace", DNS_LABEL, "my_ns"),
            "metadata.namespace",
        ),
        ({"tags": ["java", "Python"]}, invalid_field("tags.1", TAG, "Python"), "metadata.tags.1"),
        ({"tags": ["a", "b", "c d"]}, invalid_field("tags.2", TAG, "c d"), "metadata.tags.2"),
        ({"tags": ["a--b"]}, invalid_field("tags.0", TAG, "a--b"), "metadata.tags.0"),
        (
            {"labels": {"tier": "high tier"}},
            invalid_field("labels.tier", OBJECT_NAME, "high tier"),
            "metadata.labels.tier",
        ),
        (
            {"labels": {"-tier": "1"}},
            invalid_field("labels.-tier", PREFIX_SUFFIX, "-tier"),
            "metadata.labels.-tier",
        ),
        (
            {"labels": {"Acme.com/tier": "1"}},
            invalid_field("labels.Acme.com/tier", PREFIX_SUFFIX, "Acme.com/tier"),
            "metadata.labels.Acme.com/tier",
        ),
        (
            {"annotations": {"a/b/c": "x"}},
            invalid_field("annotations.a/b/c", PREFIX_SUFFIX, "a/b/c"),
            "metadata.annotations.a/b/c",
        ),
        (
            {"links": [{"url": "not a url"}]},
            invalid_field("links.0.url", "a string that is a valid url", "not a url"),
            "metadata.links.0.url",
        ),
        (
            {"links": [{"url": "https://ok.example"}, {"url": "http://exa mple.com"}]},
            invalid_field("links.1.url", "a string that is a valid url", "http://exa mple.com"),
            "metadata.links.1.url",
        ),
        (
            {"links": [{"url": "https://ok.example", "title": "  "}]},
            invalid_field("links.0.title", "a non empty string", "  "),
            "metadata.links.0.title",
        ),
        (
            {"links": [{"url": "https://ok.example", "icon": "\t"}]},
            invalid_field("links.0.icon", "a non empty string", "\t"),
            "metadata.links.0.icon",
        ),
    ],
)
def test_field_formats(metadata: dict, message: str, field: str) -> None:
    entity = with_metadata(component(), **metadata)
    ref = f"component:{entity['metadata'].get('namespace', 'default')}/{entity['metadata']['name']}".lower()
    error = raises(entity)
    assert error.message == f"Policy check failed for {ref}; caused by Error: {message}"
    assert error.field == field
    # status items and CLI output read like Backstage's (the cause is not repeated)
    assert error_message(error) == f"InputError: {error.message}"
    assert serialize_error(error) == {
        "name": "InputError",
        "message": error.message,
        "sourceLocation": {"field": field},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("apiVersion", "a/b/c", invalid_field("apiVersion", PREFIX_SUFFIX, "a/b/c")),
        (
            "apiVersion",
            "Backstage.io/v1",
            invalid_field("apiVersion", PREFIX_SUFFIX, "Backstage.io/v1"),
        ),
        (
            "kind",
            "My-Kind",
            invalid_field(
                "kind",
                "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total",
                "My-Kind",
            ),
        ),
    ],
)
def test_api_version_and_kind_formats(field: str, value: str, message: str) -> None:
    entity = component()
    entity[field] = value
    error = raises(entity)
    assert error.message.endswith(f"caused by Error: {message}")
    assert error.field == field


def test_field_format_rule_details() -> None:
    ok = [
        {"namespace": "a--b"},  # repeated hyphens are allowed in namespaces
        {"tags": ["lang:java", "c++", "c#"]},
        {"labels": {"backstage.io/tier": "", "x": "A_b.c-1"}},
        {
            "annotations": {
                "backstage.io/techdocs-ref": "dir:.",
                "a.b.c/d": "",
                "x": "any value at all",
            }
        },
        {
            "links": [
                {"url": "mailto:me@example.com", "title": "Mail"},
                {"url": "https://[::1]:8080/x"},
            ]
        },
        {"name": "My_Service.v2"},
    ]
    for metadata in ok:
        validate_entity(with_metadata(component(), **metadata))


def test_must_have_a_value() -> None:
    # unreachable through the pipeline (the schemas refuse null first), but the
    # format rules keep Backstage's message
    with pytest.raises(InputError) as info:
        check_field_formats({"apiVersion": "a", "kind": "K", "metadata": {"name": None}})
    assert (info.value.message, info.value.field) == (
        "metadata.name must have a value",
        "metadata.name",
    )


@pytest.mark.parametrize(
    ("metadata", "message", "field"),
    [
        (
            {"annotations": {"backstage.io/foo": 1}},
            "/metadata/annotations/backstage.io~1foo must be string",
            "metadata.annotations.backstage.io/foo",
        ),
        (
            {"annotations": {"flag": True}},
            "/metadata/annotations/flag must be string",
            "metadata.annotations.flag",
        ),
        ({"labels": {"tier": 1}}, "/metadata/labels/tier must be string", "metadata.labels.tier"),
        ({"tags": [1]}, "/metadata/tags/0 must be string", "metadata.tags.0"),
        (
            {"tags": [""]},
            "/metadata/tags/0 must NOT have fewer than 1 characters",
            "metadata.tags.0",
        ),
        ({"tags": "java"}, "/metadata/tags must be array", "metadata.tags"),
        (
            {"links": [{"title": "x"}]},
            "/metadata/links/0 must have required property 'url'",
            "metadata.links.0.url",
        ),
        ({"title": ""}, "/metadata/title must NOT have fewer than 1 characters", "metadata.title"),
        ({"description": 5}, "/metadata/description must be string", "metadata.description"),
    ],
)
def test_metadata_typing(metadata: dict, message: str, field: str) -> None:
    error = raises(with_metadata(component(), **metadata))
    assert error.message == f"{POLICY}Malformed envelope, {message}"
    assert error.field == field


def test_unknown_root_field() -> None:
    # Backstage's entity schema refuses unknown root fields first ...
    entity = component()
    entity["owner"] = "team-a"
    error = raises(entity)
    assert (
        error.message == f"{POLICY}Malformed envelope, <root> must NOT have additional properties"
    )
    assert error.field == "owner"
    # ... while output-only fields it knows pass the schema and are refused by
    # the "no foreign root fields" policy
    for name, value in (("relations", []), ("status", {"items": []})):
        entity = component()
        entity[name] = value
        error = raises(entity)
        assert error.message == f"{POLICY}Unknown field {name}"
        assert error.field == name


def test_policy_order_schema_before_formats_before_kind() -> None:
    entity = with_metadata(component(type=None), name="bad name", tags=[1])
    assert raises(entity).field == "metadata.tags.0"
    entity = with_metadata(component(type=None), name="bad name")
    assert raises(entity).field == "metadata.name"
    assert raises(component(type=None)).field == "spec.type"


def test_apply_policies() -> None:
    entity = component()
    result = apply_policies(entity)
    assert result["metadata"]["namespace"] == "default"
    with pytest.raises(InputError) as info:
        apply_policies(with_metadata(entity, namespace="NS"))
    assert (
        info.value.message
        == "Policy check failed for component:ns/my-service; caused by Error: "
        + invalid_field("metadata.namespace", DNS_LABEL, "NS")
    )
    # apply_policies does not check the kind
    unknown = dict(entity, kind="Widget")
    assert apply_policies(unknown)["kind"] == "Widget"


def test_error_message_chain() -> None:
    error = raises(with_metadata(component(), name="a b"))
    assert error_message(error) == (
        "InputError: Policy check failed for component:default/a b; caused by Error: "
        + invalid_field("metadata.name", OBJECT_NAME, "a b")
    )


# -- kinds --------------------------------------------------------------------


def test_unknown_kind() -> None:
    entity = dict(component(), kind="Widget")
    error = raises(entity)
    assert error.message == (
        "No processor recognized the entity widget:default/my-service as valid, "
        "possibly caused by a foreign kind or apiVersion"
    )
    assert error.field == "kind"
    assert validate_entity(entity, allow_unknown_kinds=True)["metadata"]["namespace"] == "default"


def test_kind_is_case_sensitive() -> None:
    entity = dict(component(), kind="component")
    assert find_kind(entity, BUILTIN_KINDS) is None
    assert raises(entity).message.startswith(
        "No processor recognized the entity component:default/my-service"
    )


def test_unknown_api_version() -> None:
    entity = dict(component(), apiVersion="backstage.io/v2")
    error = raises(entity)
    assert error.message.startswith(
        "No processor recognized the entity component:default/my-service as valid"
    )
    assert error.field == "apiVersion"
    template = dict(component(), kind="Template")  # Template needs the scaffolder apiVersion
    assert raises(template).field == "apiVersion"


@pytest.mark.parametrize(
    ("spec", "message", "field"),
    [
        ({"owner": None}, "/spec/owner must be string - type: string", "spec.owner"),
        ({"type": None}, "/spec/type must be string - type: string", "spec.type"),
        ({"lifecycle": 5}, "/spec/lifecycle must be string - type: string", "spec.lifecycle"),
        (
            {"owner": ""},
            "/spec/owner must NOT have fewer than 1 characters - limit: 1",
            "spec.owner",
        ),
        ({"system": {"name": "x"}}, "/spec/system must be string - type: string", "spec.system"),
        (
            {"providesApis": "api-a"},
            "/spec/providesApis must be array - type: array",
            "spec.providesApis",
        ),
        (
            {"dependsOn": ["component:a", 1]},
            "/spec/dependsOn/1 must be string - type: string",
            "spec.dependsOn.1",
        ),
        (
            {"consumesApis": [None]},
            "/spec/consumesApis/0 must be string - type: string",
            "spec.consumesApis.0",
        ),
    ],
)
def test_mistyped_component_fields(spec: dict, message: str, field: str) -> None:
    error = raises(component(**spec))
    assert error.message == KIND_ERROR + message
    assert error.field == field


def test_missing_component_fields() -> None:
    entity = component()
    del entity["spec"]["owner"]
    error = raises(entity)
    assert (
        error.message
        == KIND_ERROR + "/spec must have required property 'owner' - missingProperty: owner"
    )
    assert error.field == "spec.owner"
    entity = component()
    entity["spec"] = {}
    assert (
        raises(entity).message
        == KIND_ERROR + "/spec must have required property 'type' - missingProperty: type"
    )
    del entity["spec"]
    error = raises(entity)
    assert (
        error.message
        == KIND_ERROR + "<root> must have required property 'spec' - missingProperty: spec"
    )
    assert error.field == "spec"
    entity["spec"] = "nope"
    error = raises(entity)
    assert error.message == f"{POLICY}Malformed envelope, /spec must be object"


def kind_entity(kind: str, spec: dict, api_version: str = "backstage.io/v1alpha1") -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec}


@pytest.mark.parametrize(
    ("entity", "message", "field"),
    [
        (
            kind_entity("API", {"type": "openapi", "lifecycle": "production", "owner": "a"}),
            "/spec must have required property 'definition' - missingProperty: definition",
            "spec.definition",
        ),
        (
            kind_entity("Resource", {"owner": "a"}),
            "/spec must have required property 'type' - missingProperty: type",
            "spec.type",
        ),
        (
            kind_entity("System", {"owner": "a", "domain": 1}),
            "/spec/domain must be string - type: string",
            "spec.domain",
        ),
        (
            kind_entity("Domain", {}),
            "/spec must have required property 'owner' - missingProperty: owner",
            "spec.owner",
        ),
        (
            kind_entity("Group", {"type": "team"}),
            "/spec must have required property 'children' - missingProperty: children",
            "spec.children",
        ),
        (
            kind_entity("Group", {"type": "team", "children": None}),
            "/spec/children must be array - type: array",
            "spec.children",
        ),
        (
            kind_entity("Group", {"type": "team", "children": [], "profile": {"email": ""}}),
            "/spec/profile/email must NOT have fewer than 1 characters - limit: 1",
            "spec.profile.email",
        ),
        (
            kind_entity("User", {"memberOf": None}),
            "/spec/memberOf must be array - type: array",
            "spec.memberOf",
        ),
        (
            kind_entity("User", {}),
            "/spec must have required property 'memberOf' - missingProperty: memberOf",
            "spec.memberOf",
        ),
        (
            kind_entity("Location", {"presence": "sometimes"}),
            "/spec/presence must be equal to one of the allowed values - allowedValues: required,optional",
            "spec.presence",
        ),
        (
            kind_entity("Location", {"presence": 1}),
            "/spec/presence must be string - type: string",
            "spec.presence",
        ),
        (
            kind_entity("Location", {"targets": "./a.yaml"}),
            "/spec/targets must be array - type: array",
            "spec.targets",
        ),
    ],
)
def test_kind_specific_errors(entity: dict, message: str, field: str) -> None:
    error = raises(entity)
    ref = f"{entity['kind'].lower()}:default/x"
    assert error.message == (
        f"Processor BuiltinKindsEntityProcessor threw an error while validating the entity {ref}; "
        f"caused by TypeError: {message}"
    )
    assert error.field == field


@pytest.mark.parametrize(
    ("spec", "message", "field"),
    [
        (
            {"type": "service"},
            "/spec must have required property 'steps' - missingProperty: steps",
            "spec.steps",
        ),
        (
            {"type": "service", "steps": [{"id": "x"}]},
            "/spec/steps/0 must have required property 'action' - missingProperty: action",
            "spec.steps.0.action",
        ),
        (
            {"type": "service", "steps": [], "parameters": "x"},
            "/spec/parameters must be object - type: object",
            "spec.parameters",
        ),
        (
            {"type": "service", "steps": [{"action": "a", "if": 1}]},
            "/spec/steps/0/if must be string,boolean - type: string,boolean",
            "spec.steps.0.if",
        ),
        (
            {"type": "service", "steps": [], "output": {"x": 1}},
            "/spec/output/x must be string - type: string",
            "spec.output.x",
        ),
    ],
)
def test_template_errors(spec: dict, message: str, field: str) -> None:
    error = raises(kind_entity("Template", spec, "scaffolder.backstage.io/v1beta3"))
    assert error.message == (
        "Processor ScaffolderEntitiesProcessor threw an error while validating the entity template:default/x; "
        f"caused by TypeError: {message}"
    )
    assert error.field == field


def test_custom_kind_definition() -> None:
    def validate(entity: dict) -> None:
        if "size" not in entity.get("spec", {}):
            raise InputError(
                "/spec must have required property 'size' - missingProperty: size",
                field="spec.size",
            )

    widget = KindDefinition(
        "Widget", ("acme.com/v1",), validate, lambda entity: [], processor="WidgetProcessor"
    )
    entity = {"apiVersion": "acme.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    error = raises(entity, kinds=(*BUILTIN_KINDS, widget))
    assert error.message == (
        "Processor WidgetProcessor threw an error while validating the entity widget:default/w; "
        "caused by TypeError: /spec must have required property 'size' - missingProperty: size"
    )
    entity["spec"]["size"] = 3
    assert validate_entity(entity, (*BUILTIN_KINDS, widget))["metadata"]["namespace"] == "default"


# -- keys that vary only in case ----------------------------------------------


def test_case_duplicate_keys() -> None:
    entity = component(Owner="team-b")
    error = raises(entity)
    assert error.message == "Entity has duplicate keys that vary only in casing, 'spec.owner'"
    assert error.field == "spec.Owner"


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        (
            lambda e: e["spec"].update(lifeCycle="x", OWNER="y"),
            "'spec.lifecycle', 'spec.owner'",
            "spec.lifeCycle",
        ),
        (lambda e: e["metadata"].update(Name="x"), "'metadata.name'", "metadata.name"),
        (
            lambda e: e["metadata"].update(
                links=[
                    {"url": "https://a.example", "title": "A"},
                    {"url": "https://b.example", "Title": "B"},
                ]
            ),
            "'metadata.links.title'",
            "metadata.links.Title",
        ),
        (lambda e: e["spec"].update({"a.B": 1, "a": {"b": 2}}), "'spec.a.b'", "spec.a.b"),
        (
            lambda e: e["spec"].update({"x": {"y": {"Z": 1}}, "x.y": {"z": 2}}),
            "'spec.x.y.z'",
            "spec.x.y.z",
        ),
        (
            lambda e: e["metadata"].update(annotations={"acme.com/Key": "a", "acme.com/key": "b"}),
            "'metadata.annotations.acme.com/key'",
            "metadata.annotations.acme.com/key",
        ),
    ],
)
def test_case_duplicate_key_variants(change, message: str, field: str) -> None:
    entity = component()
    change(entity)
    error = raises(entity)
    assert error.message == f"Entity has duplicate keys that vary only in casing, {message}"
    assert error.field == field


def test_case_variants_that_do_not_collide() -> None:
    # only the leaf paths the search index builds are compared
    entity = component(foo={"a": 1}, Foo={"b": 2}, empty={}, Empty={})
    entity["spec"]["tags"] = ["A", "a"]  # array items are deduplicated case-insensitively
    entity["spec"]["items"] = [{"k": 1}, {"k": 2}]
    validate_entity(entity)


# -- schema error reporting agrees with the compiled validators ---------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["", "x", "team-a", "required", "Component"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["type", "owner", "lifecycle", "name", "items", "x", "url", "steps", "action"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=8,
)
KIND_NAMES = sorted(KIND_SCHEMAS)
FULL_SCHEMAS = {kind: kind_schema(KIND_SCHEMAS[kind][1]) for kind in KIND_NAMES}
COMPILED = {kind: compile_schema(schema) for kind, schema in FULL_SCHEMAS.items()}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KIND_NAMES), json_values)
def test_first_error_agrees_with_fastjsonschema(kind: str, spec: Any) -> None:
    entity = {
        "apiVersion": KIND_SCHEMAS[kind][0][0],
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": spec,
    }
    try:
        COMPILED[kind](entity)
        compiled_ok = True
    except Exception:
        compiled_ok = False
    assert compiled_ok == (first_error(FULL_SCHEMAS[kind], entity) is None)


paths = st.sampled_from(
    [
        ("apiVersion",),
        ("kind",),
        ("metadata", "name"),
        ("metadata", "namespace"),
        ("metadata", "tags"),
        ("metadata", "labels"),
        ("metadata", "annotations"),
        ("metadata", "links"),
        ("spec",),
        ("spec", "type"),
        ("spec", "owner"),
        ("spec", "dependsOn"),
        ("spec", "Owner"),
        ("extra",),
        ("status",),
    ]
)
values = st.one_of(
    json_values,
    st.sampled_from(
        ["Foo", "foo bar", "backstage.io/v1alpha1", "Component", "component:x", "https://x.example"]
    ),
    st.lists(st.sampled_from(["java", "Java", "a b", "x"]), max_size=3),
    st.dictionaries(
        st.sampled_from(["a", "b/c", "backstage.io/x", "B"]),
        st.sampled_from(["v", 1, ""]),
        max_size=2,
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["url", "title", "icon"]),
            st.sampled_from(["https://a.example", " ", "x", None]),
        ),
        max_size=2,
    ),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(paths, values), min_size=1, max_size=3))
def test_fast_and_exact_paths_agree(changes: list) -> None:
    entity = with_metadata(
        component(),
        tags=["java"],
        labels={"tier": "1"},
        annotations={"backstage.io/techdocs-ref": "dir:."},
    )
    for path, value in changes:
        target = entity
        for part in path[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[path[-1]] = copy.deepcopy(value)
    try:
        fast = validate_entity(entity)
    except InputError as exc:
        fast = (exc.message, exc.field)
    except Exception as exc:
        pytest.fail(f"unexpected {exc!r}")
    try:
        exact = _validate_exact(entity, BUILTIN_KINDS, False)
    except InputError as exc:
        exact = (exc.message, exc.field)
    assert fast == exact


# -- format rules against independent definitions ------------------------------

ALNUM = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
LOWER_ALNUM = set("abcdefghijklmnopqrstuvwxyz0123456789")


def reference_name_ok(text: str) -> bool:
    return (
        1 <= len(text) <= 63
        and all(ch in ALNUM or ch in "-_." for ch in text)
        and text[0] in ALNUM
        and text[-1] in ALNUM
    )


def reference_namespace_ok(text: str) -> bool:
    return (
        1 <= len(text) <= 63
        and all(ch in LOWER_ALNUM or ch == "-" for ch in text)
        and text[0] != "-"
        and text[-1] != "-"
    )


def reference_tag_ok(text: str) -> bool:
    allowed = LOWER_ALNUM | set(":+#")
    return (
        1 <= len(text) <= 63
        and all(ch in allowed or ch == "-" for ch in text)
        and text[0] != "-"
        and text[-1] != "-"
        and "--" not in text
    )


name_like = st.text(alphabet=st.sampled_from("aZ9-_.:+# /\n\u00e9"), max_size=70)


@given(st.one_of(name_like, st.from_regex(r"\A([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")))
def test_entity_name_rule(text: str) -> None:
    assert is_valid_entity_name(text) == reference_name_ok(text)


@given(st.one_of(name_like, st.from_regex(r"\A[a-z0-9]+(-+[a-z0-9]+)*\Z")))
def test_namespace_rule(text: str) -> None:
    assert is_valid_namespace(text) == reference_namespace_ok(text)


@given(st.one_of(name_like, st.from_regex(r"\A[a-z0-9:+#]+(-[a-z0-9:+#]+)*\Z")))
def test_tag_rule(text: str) -> None:
    assert is_valid_tag(text) == reference_tag_ok(text)


@given(st.from_regex(r"\A([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z"))
def test_regex_generated_names_pass_the_pipeline(name: str) -> None:
    entity = with_metadata(component(), name=name)
    if len(name) <= 63:
        assert validate_entity(entity)["metadata"]["name"] == name
    else:
        assert raises(entity).field == "metadata.name"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com", True),
        ("http://localhost:3000/x?y#z", True),
        ("https://user:pw@host.example/a b", True),
        ("mailto:someone@example.com", True),
        ("urn:isbn:0451450523", True),
        ("file:///etc/hosts", True),
        ("  https://example.com  ", True),
        ("https://1.2.3.4/", True),
        ("https://[::1]/", True),
        ("example.com", False),
        ("/relative/path", False),
        ("//example.com", False),
        ("https://", False),
        ("http://exa mple.com", False),
        ("https://example.com:99999", False),
        ("https://1.2.3.256/", False),
        ("https://[::1/", False),
        ("", False),
    ],
)
def test_url_rule(url: str, ok: bool) -> None:
    assert is_valid_url(url) is ok


def test_no_regex_accepts_a_trailing_newline() -> None:
    # JavaScript's `$` does not match before a final newline
    assert not is_valid_entity_name("svc\n")
    assert not is_valid_namespace("ns\n")
    assert not is_valid_tag("tag\n")
    assert re.fullmatch(r"[a-z]+", "a\n") is None
