"""Built-in kinds and the relations they emit (catalog.md §5, §6)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from greenroom.catalog.model import (
    BUILTIN_KINDS,
    KindDefinition,
    Relation,
    find_kind,
    validate_entity,
)
from greenroom.errors import InputError, error_message
from tests.catalog.helpers import reference_dir

EXAMPLES = reference_dir() / "backstage-examples"
CATALOG = EXAMPLES / "packages" / "catalog-model" / "examples"
needs_examples = pytest.mark.skipif(
    not CATALOG.is_dir(), reason="Backstage reference examples not available"
)


def example(path: str, name: str | None = None, namespace: str | None = None) -> dict:
    """One entity of an example file, validated."""
    for doc in yaml.safe_load_all((EXAMPLES / path).read_text()):
        if doc is None:
            continue
        metadata = doc["metadata"]
        if (name is None or metadata["name"] == name) and metadata.get("namespace") == namespace:
            return validate_entity(doc)
    raise LookupError(f"{name} not in {path}")


def relations_of(entity: dict) -> set[tuple[str, str, str]]:
    definition = find_kind(entity, BUILTIN_KINDS)
    assert definition is not None
    return {(r.source, r.type, r.target) for r in definition.relations(entity)}


def entity(
    kind: str, spec: dict, name: str = "x", namespace: str | None = None, **extra: Any
) -> dict:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    api_version = (
        "scaffolder.backstage.io/v1beta3" if kind == "Template" else "backstage.io/v1alpha1"
    )
    return validate_entity(
        {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec, **extra}
    )


# -- definitions --------------------------------------------------------------


def test_builtin_kinds() -> None:
    assert [d.kind for d in BUILTIN_KINDS] == [
        "Component",
        "API",
        "Resource",
        "System",
        "Domain",
        "Group",
        "User",
        "Location",
        "Template",
    ]
    for definition in BUILTIN_KINDS:
        assert isinstance(definition, KindDefinition)
        expected = (
            ("scaffolder.backstage.io/v1beta3",)
            if definition.kind == "Template"
            else ("backstage.io/v1alpha1", "backstage.io/v1beta1")
        )
        assert definition.api_versions == expected
        assert definition.schema is not None


def test_find_kind() -> None:
    component = {
        "apiVersion": "backstage.io/v1beta1",
        "kind": "Component",
        "metadata": {"name": "x"},
    }
    assert find_kind(component, BUILTIN_KINDS).kind == "Component"
    assert find_kind({**component, "kind": "COMPONENT"}, BUILTIN_KINDS) is None
    assert find_kind({**component, "apiVersion": "backstage.io/v1"}, BUILTIN_KINDS) is None
    assert find_kind({**component, "kind": ["Component"]}, BUILTIN_KINDS) is None
    custom = (BUILTIN_KINDS[7],)  # a plain sequence: searched in order
    assert find_kind({**component, "kind": "Location"}, custom) is BUILTIN_KINDS[7]
    assert find_kind(component, custom) is None


def test_validate_raises_ajv_style_messages() -> None:
    definition = BUILTIN_KINDS[0]
    with pytest.raises(InputError) as info:
        definition.validate(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "x"},
                "spec": {},
            }
        )
    assert info.value.message == "/spec must have required property 'type' - missingProperty: type"
    assert info.value.field == "spec.type"


# -- relations of the Backstage examples --------------------------------------


@needs_examples
def test_group_with_parent_and_children() -> None:
    assert relations_of(
        example("packages/catalog-model/examples/acme/infrastructure-group.yaml")
    ) == {
        ("group:default/infrastructure", "childOf", "group:default/acme-corp"),
        ("group:default/acme-corp", "parentOf", "group:default/infrastructure"),
        ("group:default/infrastructure", "parentOf", "group:default/backstage"),
        ("group:default/backstage", "childOf", "group:default/infrastructure"),
        ("group:default/infrastructure", "parentOf", "group:default/boxoffice"),
        ("group:default/boxoffice", "childOf", "group:default/infrastructure"),
    }


@needs_examples
def test_group_without_parent() -> None:
    assert relations_of(example("packages/catalog-model/examples/acme/org.yaml", "acme-corp")) == {
        ("group:default/acme-corp", "parentOf", "group:default/infrastructure"),
        ("group:default/infrastructure", "childOf", "group:default/acme-corp"),
    }


@needs_examples
def test_user_member_of() -> None:
    assert relations_of(
        example("packages/catalog-model/examples/acme/team-a-group.yaml", "breanna.davison")
    ) == {
        ("user:default/breanna.davison", "memberOf", "group:default/team-a"),
        ("group:default/team-a", "hasMember", "user:default/breanna.davison"),
    }
    # a user in another namespace keeps an explicit namespace in its refs
    assert relations_of(
        example("packages/catalog-model/examples/acme/team-a-group.yaml", "guest", "development")
    ) == {
        ("user:development/guest", "memberOf", "group:default/team-a"),
        ("group:default/team-a", "hasMember", "user:development/guest"),
    }


@needs_examples
def test_component_provides_and_consumes_apis() -> None:
    assert relations_of(
        example("packages/catalog-model/examples/components/wayback-search-component.yaml")
    ) == {
        ("component:default/wayback-search", "ownedBy", "group:default/team-a"),
        ("group:default/team-a", "ownerOf", "component:default/wayback-search"),
        ("component:default/wayback-search", "providesApi", "api:default/wayback-search"),
        ("api:default/wayback-search", "apiProvidedBy", "component:default/wayback-search"),
        ("component:default/wayback-search", "consumesApi", "api:default/wayback-archive"),
        ("api:default/wayback-archive", "apiConsumedBy", "component:default/wayback-search"),
    }


@needs_examples
def test_component_depends_on_and_system() -> None:
    # `apiConsumedBy` in this example is not a relation field: Backstage ignores it
    assert relations_of(
        example("packages/catalog-model/examples/components/artist-lookup-component.yaml")
    ) == {
        ("component:default/artist-lookup", "ownedBy", "group:default/team-a"),
        ("group:default/team-a", "ownerOf", "component:default/artist-lookup"),
        ("component:default/artist-lookup", "partOf", "system:default/artist-engagement-portal"),
        ("system:default/artist-engagement-portal", "hasPart", "component:default/artist-lookup"),
        ("component:default/artist-lookup", "dependsOn", "resource:default/artists-db"),
        ("resource:default/artists-db", "dependencyOf", "component:default/artist-lookup"),
    }


@needs_examples
def test_subcomponent_and_owner_user() -> None:
    assert relations_of(
        example(
            "packages/catalog-model/examples/components/wayback-archive-ingestion-component.yaml"
        )
    ) >= {
        (
            "component:default/wayback-archive-ingestion",
            "partOf",
            "component:default/wayback-archive",
        ),
        (
            "component:default/wayback-archive",
            "hasPart",
            "component:default/wayback-archive-ingestion",
        ),
    }
    assert relations_of(
        example("packages/catalog-model/examples/components/playback-order-component.yaml")
    ) >= {
        ("component:default/playback-order", "ownedBy", "user:default/guest"),
        ("user:default/guest", "ownerOf", "component:default/playback-order"),
    }


@needs_examples
def test_system_domain_resource_api() -> None:
    assert relations_of(
        example("packages/catalog-model/examples/systems/audio-playback-system.yaml")
    ) == {
        ("system:default/audio-playback", "ownedBy", "group:default/team-c"),
        ("group:default/team-c", "ownerOf", "system:default/audio-playback"),
        ("system:default/audio-playback", "partOf", "domain:default/playback"),
        ("domain:default/playback", "hasPart", "system:default/audio-playback"),
    }
    assert relations_of(
        example("packages/catalog-model/examples/domains/playback-domain.yaml")
    ) == {
        ("domain:default/playback", "ownedBy", "user:default/frank.tiernan"),
        ("user:default/frank.tiernan", "ownerOf", "domain:default/playback"),
        ("domain:default/playback", "partOf", "domain:default/audio"),
        ("domain:default/audio", "hasPart", "domain:default/playback"),
    }
    assert relations_of(
        example("packages/catalog-model/examples/resources/artists-db-resource.yaml")
    ) == {
        ("resource:default/artists-db", "ownedBy", "group:default/team-a"),
        ("group:default/team-a", "ownerOf", "resource:default/artists-db"),
        ("resource:default/artists-db", "partOf", "system:default/artist-engagement-portal"),
        ("system:default/artist-engagement-portal", "hasPart", "resource:default/artists-db"),
    }
    api_spec = {
        "type": "openapi",
        "lifecycle": "production",
        "owner": "team-c",
        "definition": "{}",
        "system": "petstore",
    }
    assert relations_of(entity("API", api_spec, "petstore")) == {
        ("api:default/petstore", "ownedBy", "group:default/team-c"),
        ("group:default/team-c", "ownerOf", "api:default/petstore"),
        ("api:default/petstore", "partOf", "system:default/petstore"),
        ("system:default/petstore", "hasPart", "api:default/petstore"),
    }


@needs_examples
def test_template_owner() -> None:
    template = example("software-templates/scaffolder-templates/react-ssr-template/template.yaml")
    # refs are not checked against naming rules: an e-mail address is a Group name here
    assert relations_of(template) == {
        ("template:default/react-ssr-template", "ownedBy", "group:default/web@example.com"),
        ("group:default/web@example.com", "ownerOf", "template:default/react-ssr-template"),
    }


@needs_examples
def test_location_emits_no_relations() -> None:
    assert relations_of(example("packages/catalog-model/examples/all.yaml")) == set()


# -- relation rules -----------------------------------------------------------


def test_default_namespace_is_the_entity_namespace() -> None:
    component = entity(
        "Component",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "finance-eng",
            "providesApis": ["default/pay"],
        },
        "payments",
        "money",
    )
    assert relations_of(component) == {
        ("component:money/payments", "ownedBy", "group:money/finance-eng"),
        ("group:money/finance-eng", "ownerOf", "component:money/payments"),
        ("component:money/payments", "providesApi", "api:default/pay"),
        ("api:default/pay", "apiProvidedBy", "component:money/payments"),
    }


def test_refs_are_lowercased() -> None:
    component = entity(
        "Component",
        {"type": "service", "lifecycle": "production", "owner": "Group:Ns/Team-A"},
        "Svc",
    )
    assert relations_of(component) == {
        ("component:default/svc", "ownedBy", "group:ns/team-a"),
        ("group:ns/team-a", "ownerOf", "component:default/svc"),
    }


def test_group_members_and_dependency_of() -> None:
    group = entity(
        "Group",
        {"type": "team", "children": ["sub"], "members": ["alice", "user:bob", "alice"]},
        "team",
    )
    assert relations_of(group) == {
        ("group:default/team", "parentOf", "group:default/sub"),
        ("group:default/sub", "childOf", "group:default/team"),
        ("group:default/team", "hasMember", "user:default/alice"),
        ("user:default/alice", "memberOf", "group:default/team"),
        ("group:default/team", "hasMember", "user:default/bob"),
        ("user:default/bob", "memberOf", "group:default/team"),
    }
    resource = entity(
        "Resource", {"type": "db", "owner": "a", "dependencyOf": ["component:svc"]}, "db"
    )
    assert ("resource:default/db", "dependencyOf", "component:default/svc") in relations_of(
        resource
    )
    assert ("component:default/svc", "dependsOn", "resource:default/db") in relations_of(resource)


def test_relations_are_deduplicated_and_ordered() -> None:
    component = entity(
        "Component",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "team-a",
            "dependsOn": ["component:a", "Component:A", "resource:db"],
        },
        "svc",
    )
    relations = BUILTIN_KINDS[0].relations(component)
    assert relations == [
        Relation("component:default/svc", "ownedBy", "group:default/team-a"),
        Relation("group:default/team-a", "ownerOf", "component:default/svc"),
        Relation("component:default/svc", "dependsOn", "component:default/a"),
        Relation("component:default/a", "dependencyOf", "component:default/svc"),
        Relation("component:default/svc", "dependsOn", "resource:default/db"),
        Relation("resource:default/db", "dependencyOf", "component:default/svc"),
    ]


POSTPROCESS = (
    "Processor BuiltinKindsEntityProcessor threw an error while postprocessing; caused by "
)


def test_depends_on_without_kind() -> None:
    component = entity(
        "Component",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "a",
            "dependsOn": ["component:ok", "foo"],
        },
    )
    with pytest.raises(InputError) as info:
        BUILTIN_KINDS[0].relations(component)
    assert info.value.message == (
        POSTPROCESS
        + 'Error: Entity reference "foo" had missing or empty kind (e.g. did not start with "component:" or similar)'
    )
    assert info.value.field == "spec.dependsOn.1"
    assert error_message(info.value) == f"InputError: {info.value.message}"


def test_malformed_refs_in_relations() -> None:
    resource = entity("Resource", {"type": "db", "owner": "group:", "dependencyOf": "x"})
    with pytest.raises(InputError) as info:
        BUILTIN_KINDS[2].relations(resource)
    assert info.value.message == (
        POSTPROCESS
        + 'TypeError: Entity reference "group:" was not on the form [<kind>:][<namespace>/]<name>'
    )
    assert info.value.field == "spec.owner"
    # dependencyOf is not in the schema: a bare string is one target, and it needs a kind
    resource["spec"]["owner"] = "a"
    with pytest.raises(InputError) as info:
        BUILTIN_KINDS[2].relations(resource)
    assert info.value.field == "spec.dependencyOf"
    assert 'Entity reference "x" had missing or empty kind' in info.value.message


def test_template_relation_errors_name_the_scaffolder_processor() -> None:
    template = entity("Template", {"type": "service", "steps": [], "owner": ":x"})
    with pytest.raises(InputError) as info:
        BUILTIN_KINDS[8].relations(template)
    assert info.value.message.startswith(
        "Processor ScaffolderEntitiesProcessor threw an error while postprocessing; caused by TypeError: "
    )


def test_relations_only_for_their_own_kind() -> None:
    group = entity("Group", {"type": "team", "children": ["a"]})
    assert BUILTIN_KINDS[0].relations(group) == []
