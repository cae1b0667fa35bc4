"""Reading OpenAPI/Swagger definitions: structure, $refs, and bad or hostile input."""

from __future__ import annotations

import json
import socket
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenroom.catalog.apidocs.openapi import (
    MAX_DEFINITION_BYTES,
    MAX_SCHEMA_DEPTH,
    MAX_WALK_NODES,
    DefinitionError,
    OpenApiDoc,
    OperationView,
    SchemaView,
    read_openapi,
)


def read(text: str) -> OpenApiDoc:
    return read_openapi(textwrap.dedent(text))


def error_of(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        read_openapi(textwrap.dedent(text) if "\n" in text else text)
    return info.value


def op(doc: OpenApiDoc, method: str, path: str) -> OperationView:
    (found,) = [o for o in doc.operations if o.method == method and o.path == path]
    return found


def prop(schema: SchemaView, name: str) -> SchemaView:
    (found,) = [p for p in schema.properties if p.name == name]
    return found.schema


def wrap(components: str = "", paths: str = "{}") -> str:
    """A minimal OpenAPI 3.0 document around the given (YAML) components and paths."""
    return (
        "openapi: 3.0.3\ninfo: {title: T, version: '1'}\n"
        f"paths: {paths}\ncomponents:\n" + textwrap.indent(textwrap.dedent(components), "  ")
    )


# --------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------


def test_info_servers_tags_and_groups():
    doc = read(
        """\
        openapi: "3.1.0"
        info:
          title: Shop
          version: 2.0.1
          description: "**Markdown** <b>stays</b> text"
        servers:
          - url: https://api.example.com/v1
            description: production
          - {description: no url}
        tags:
          - {name: pets, description: Pet things}
          - {name: unused}
          - {name: pets, description: duplicate}
        paths:
          /pets:
            get: {tags: [pets], responses: {'200': {description: ok}}}
            post: {tags: [pets, admin], responses: {}}
          /health:
            get: {summary: untagged}
          /other:
            get: {tags: [zeta]}
        """
    )
    assert (doc.spec_version, doc.title, doc.version) == ("3.1.0", "Shop", "2.0.1")
    assert doc.description == "**Markdown** <b>stays</b> text"  # never rendered here
    assert [(s.url, s.description) for s in doc.servers] == [
        ("https://api.example.com/v1", "production")
    ]
    assert [(t.name, t.description) for t in doc.tags] == [
        ("pets", "Pet things"),
        ("unused", None),
    ]
    # declared tags first (empty ones left out), then others as met, "default" last
    assert [(g.name, [o.anchor for o in g.operations]) for g in doc.groups] == [
        ("pets", ["op-get-pets", "op-post-pets"]),
        ("admin", ["op-post-pets"]),
        ("zeta", ["op-get-other"]),
        ("default", ["op-get-health"]),
    ]
    assert doc.groups[0].description == "Pet things"
    assert [(o.method, o.path) for o in doc.operations] == [
        ("GET", "/pets"),
        ("POST", "/pets"),
        ("GET", "/health"),
        ("GET", "/other"),
    ]


def test_operation_fields_and_unique_anchors():
    doc = read(
        """\
        openapi: 3.0.0
        info: {title: T, version: '1'}
        paths:
          /a/{id}:
            get:
              operationId: same
              summary: Get one
              description: |
                Returns *one* thing.
                <script>alert(1)</script>
              deprecated: true
              responses:
                200:
                  description: OK
                  content:
                    application/json: {schema: {type: string, format: uuid}}
                4XX: {description: client error}
                default: {description: other}
          /b:
            get: {operationId: same}
        """
    )
    first = op(doc, "GET", "/a/{id}")
    assert first.operation_id == "same"
    assert first.summary == "Get one"
    assert first.description == "Returns *one* thing.\n<script>alert(1)</script>\n"
    assert first.deprecated is True
    # YAML reads `200:` as a number; statuses are strings, in document order
    assert [(r.status, r.description) for r in first.responses] == [
        ("200", "OK"),
        ("4XX", "client error"),
        ("default", "other"),
    ]
    (media,) = first.responses[0].content
    assert media.media_type == "application/json"
    assert media.schema is not None
    assert media.schema.label == "string (uuid)"
    assert [o.anchor for o in doc.operations] == ["op-same", "op-same-2"]


def test_parameters_and_request_body_openapi3():
    doc = read(
        wrap(
            """\
            parameters:
              Limit: {name: limit, in: query, description: How many, schema: {type: integer, maximum: 100, default: 20}}
            requestBodies:
              NewPet:
                description: The pet
                required: true
                content:
                  application/json: {schema: {$ref: '#/components/schemas/Pet'}}
                  text/plain: {}
            schemas:
              Pet:
                type: object
                required: [name]
                properties:
                  name: {type: string, minLength: 1}
                  age: {type: integer, nullable: true}
            """,
            paths="""
              /pets:
                post:
                  parameters:
                    - $ref: '#/components/parameters/Limit'
                    - name: X-Trace
                      in: header
                      required: true
                      deprecated: true
                      content: {text/plain: {schema: {type: string}}}
                  requestBody: {$ref: '#/components/requestBodies/NewPet'}
            """.replace("\n", "\n  "),
        )
    )
    post = op(doc, "POST", "/pets")
    limit, trace = post.parameters
    assert (limit.name, limit.location, limit.required, limit.description) == (
        "limit",
        "query",
        False,
        "How many",
    )
    assert limit.schema is not None
    assert limit.schema.type == "integer"
    assert limit.schema.default == "20"
    assert limit.schema.constraints == ("maximum: 100",)
    assert (trace.name, trace.location, trace.required, trace.deprecated) == (
        "X-Trace",
        "header",
        True,
        True,
    )
    assert trace.schema is not None and trace.schema.type == "string"
    body = post.request_body
    assert body is not None
    assert (body.description, body.required) == ("The pet", True)
    assert [m.media_type for m in body.content] == ["application/json", "text/plain"]
    pet = body.content[0].schema
    assert pet is not None
    assert (pet.ref, pet.ref_name, pet.type, pet.required) == (
        "#/components/schemas/Pet",
        "Pet",
        "object",
        ("name",),
    )
    assert [(p.name, p.required) for p in pet.properties] == [("name", True), ("age", False)]
    assert prop(pet, "name").constraints == ("minLength: 1",)
    assert prop(pet, "age").nullable is True
    assert prop(pet, "age").label == "integer | null"
    assert body.content[1].schema is None


def test_path_level_parameters_merge_into_operations():
    doc = read(
        wrap(
            """\
            parameters:
              Id: {name: id, in: path, required: true, description: from a ref, schema: {type: string}}
            """,
            paths="""
              /items/{id}:
                parameters:
                  - $ref: '#/components/parameters/Id'
                  - {name: verbose, in: query, schema: {type: boolean}}
                  - {name: verbose, in: header, description: 'same name, other place'}
                get:
                  parameters:
                    - {name: verbose, in: query, description: the operation's own, schema: {type: integer}}
                delete: {}
            """.replace("\n", "\n  "),
        )
    )
    get = op(doc, "GET", "/items/{id}")
    assert [(p.name, p.location, p.description) for p in get.parameters] == [
        ("id", "path", "from a ref"),
        ("verbose", "header", "same name, other place"),
        ("verbose", "query", "the operation's own"),  # replaces the path-level one
    ]
    assert get.parameters[2].schema is not None
    assert get.parameters[2].schema.type == "integer"
    delete = op(doc, "DELETE", "/items/{id}")
    assert [(p.name, p.location) for p in delete.parameters] == [
        ("id", "path"),
        ("verbose", "query"),
        ("verbose", "header"),
    ]


def test_swagger2_body_form_and_responses():
    doc = read(
        """\
        swagger: 2.0
        info: {title: Old, version: 1.0.0}
        host: api.example.com
        basePath: /v2
        schemes: [https, http]
        consumes: [application/json, application/xml]
        produces: [application/json]
        parameters:
          Id: {name: id, in: path, required: true, type: integer, format: int64}
        responses:
          NotFound:
            description: Nothing there
            schema: {$ref: '#/definitions/Error'}
        definitions:
          Pet:
            type: object
            properties:
              name: {type: string}
              tags: {type: array, items: {$ref: '#/definitions/Tag'}}
          Tag: {type: object, properties: {label: {type: string}}}
          Error: {properties: {message: {type: string}}}
        paths:
          /pets/{id}:
            parameters: [{$ref: '#/parameters/Id'}]
            put:
              parameters:
                - {name: body, in: body, required: true, description: The new pet, schema: {$ref: '#/definitions/Pet'}}
                - {name: tags, in: query, type: array, items: {type: string, enum: [a, b]}, collectionFormat: csv}
              responses:
                200: {description: Updated, schema: {$ref: '#/definitions/Pet'}}
                404: {$ref: '#/responses/NotFound'}
          /pets/{id}/photo:
            post:
              consumes: [multipart/form-data]
              parameters:
                - {name: file, in: formData, type: file, required: true, description: The photo}
                - {name: caption, in: formData, type: string}
              responses: {204: {description: Stored}}
        """
    )
    assert doc.spec_version == "2.0"  # an unquoted 2.0 is a float in YAML
    assert [s.url for s in doc.servers] == [
        "https://api.example.com/v2",
        "http://api.example.com/v2",
    ]

    put = op(doc, "PUT", "/pets/{id}")
    assert [(p.name, p.location) for p in put.parameters] == [("id", "path"), ("tags", "query")]
    assert put.parameters[0].schema is not None
    assert put.parameters[0].schema.label == "integer (int64)"
    tags = put.parameters[1].schema
    assert tags is not None
    assert tags.label == "array of string"
    assert tags.items is not None and tags.items.enum == ('"a"', '"b"')
    assert tags.constraints == ('collectionFormat: "csv"',)

    body = put.request_body
    assert body is not None
    assert (body.description, body.required) == ("The new pet", True)
    assert [m.media_type for m in body.content] == ["application/json", "application/xml"]
    pet = body.content[0].schema
    assert pet is not None and pet.ref_name == "Pet"
    assert prop(pet, "tags").label == "array of Tag"
    assert body.content[1].schema is pet  # one schema for every media type in Swagger 2

    ok, missing = put.responses
    assert (ok.status, ok.description, [m.media_type for m in ok.content]) == (
        "200",
        "Updated",
        ["application/json"],
    )
    assert (missing.status, missing.description) == ("404", "Nothing there")
    assert missing.content[0].schema is not None
    assert missing.content[0].schema.ref_name == "Error"
    assert missing.content[0].schema.type == "object"  # inferred from `properties`

    post = op(doc, "POST", "/pets/{id}/photo")
    assert post.parameters == []  # /pets/{id}'s parameters are not /pets/{id}/photo's
    form = post.request_body
    assert form is not None and form.required is True
    (media,) = form.content
    assert media.media_type == "multipart/form-data"
    assert media.schema is not None
    assert media.schema.required == ("file",)
    assert [(p.name, p.schema.label, p.schema.description) for p in media.schema.properties] == [
        ("file", "string (binary)", "The photo"),
        ("caption", "string", None),
    ]


def test_webhooks_are_listed_apart():
    doc = read(
        """\
        openapi: 3.1.0
        info: {title: Hooks, version: '1'}
        webhooks:
          newPet:
            post:
              requestBody:
                content: {application/json: {schema: {type: object}}}
              responses: {'200': {description: ok}}
        """
    )
    assert doc.operations == [] and doc.groups == []
    (hook,) = doc.webhooks
    assert (hook.method, hook.path, hook.webhook, hook.anchor) == (
        "POST",
        "newPet",
        True,
        "hook-post-newPet",
    )


# --------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------


def test_one_of_any_of_all_of_are_alternatives():
    doc = read(
        wrap(
            """\
            schemas:
              Cat: {type: object, properties: {purrs: {type: boolean}}}
              Dog: {type: object, properties: {barks: {type: boolean}}}
              Pet:
                oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]
                discriminator: {propertyName: kind}
              Named:
                allOf:
                  - $ref: '#/components/schemas/Pet'
                  - {type: object, properties: {name: {type: string}}}
                anyOf: [{type: string}, {type: integer}]
            """,
            paths="""{"/p": {get: {responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Named"}}}}}}}}""",
        )
    )
    named = op(doc, "GET", "/p").responses[0].content[0].schema
    assert named is not None
    assert [(a.keyword, a.label, len(a.schemas)) for a in named.alternatives] == [
        ("anyOf", "any of", 2),
        ("allOf", "all of", 2),
    ]
    pet = named.alternatives[1].schemas[0]
    assert pet.ref_name == "Pet"
    (one_of,) = pet.alternatives
    assert one_of.keyword == "oneOf"
    assert [s.label for s in one_of.schemas] == ["Cat", "Dog"]
    assert [p.name for p in one_of.schemas[1].properties] == ["barks"]
    assert pet.label == "Pet"
    assert named.alternatives[0].schemas[1].label == "integer"


def test_openapi31_type_lists_const_and_boolean_schemas():
    doc = read(
        """\
        openapi: 3.1.0
        info: {title: T, version: '1'}
        components:
          schemas:
            S:
              type: object
              properties:
                a: {type: [string, "null"]}
                b: {type: [string, integer]}
                c: {const: fixed}
                d: true
                e: {type: string, enum: [yes, no, on, off, 2020-01-02]}
                f: {type: object, additionalProperties: {type: integer}}
        paths:
          /s:
            get:
              responses:
                '200':
                  description: ok
                  content: {application/json: {schema: {$ref: '#/components/schemas/S'}}}
        """
    )
    s = op(doc, "GET", "/s").responses[0].content[0].schema
    assert s is not None
    assert prop(s, "a").label == "string | null"
    assert prop(s, "b").type == "string | integer"
    assert prop(s, "c").enum == ('"fixed"',)
    assert prop(s, "d").type == "any"
    # YAML 1.2 reading: yes/no/on/off and dates stay strings
    assert prop(s, "e").enum == ('"yes"', '"no"', '"on"', '"off"', '"2020-01-02"')
    extra = prop(s, "f").additional_properties
    assert extra is not None and extra.type == "integer"


def test_cyclic_refs_are_shown_by_name():
    doc = read(
        wrap(
            """\
            schemas:
              Node:
                type: object
                properties:
                  value: {type: string}
                  children: {type: array, items: {$ref: '#/components/schemas/Node'}}
                  parent: {$ref: '#/components/schemas/Node'}
              A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}
              B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}
              Self: {$ref: '#/components/schemas/Self'}
            """,
            paths="""{"/n": {get: {responses: {"200": {description: ok, content: {
                application/json: {schema: {$ref: "#/components/schemas/Node"}},
                application/a: {schema: {$ref: "#/components/schemas/A"}},
                application/self: {schema: {$ref: "#/components/schemas/Self"}}}}}}}}""",
        )
    )
    node, a, self_ref = (m.schema for m in op(doc, "GET", "/n").responses[0].content)
    assert node is not None and a is not None and self_ref is not None
    assert node.ref_name == "Node" and node.unresolved is None
    children = prop(node, "children")
    assert children.items is not None
    assert (children.items.ref_name, children.items.unresolved) == ("Node", "cycle")
    assert children.label == "array of Node"
    assert prop(node, "parent").unresolved == "cycle"
    b = prop(a, "b")
    assert (b.ref_name, b.unresolved) == ("B", None)
    assert (prop(b, "a").ref_name, prop(b, "a").unresolved) == ("A", "cycle")
    assert (self_ref.ref_name, self_ref.unresolved) == ("Self", "cycle")


def test_remote_refs_are_never_fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("read_openapi must not open connections")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    local = tmp_path / "pet.yaml"
    local.write_text("type: object\nproperties: {leaked: {type: string}}\n")
    doc = read(
        f"""\
        openapi: 3.0.0
        info: {{title: T, version: '1'}}
        paths:
          /r:
            parameters: [{{$ref: 'https://example.com/params.yaml#/Id'}}]
            get:
              requestBody: {{$ref: 'bodies.yaml#/Body'}}
              responses:
                '200':
                  description: ok
                  content:
                    application/json: {{schema: {{$ref: 'https://example.com/schemas.json#/Pet'}}}}
                    application/file: {{schema: {{$ref: '{local}'}}}}
                    application/js: {{schema: {{$ref: 'javascript:alert(1)'}}}}
                '404': {{$ref: 'responses.yaml#/NotFound'}}
          /elsewhere: {{$ref: 'paths.yaml#/x'}}
        """
    )
    get = op(doc, "GET", "/r")
    (param,) = get.parameters
    assert (param.ref, param.unresolved, param.name) == (
        "https://example.com/params.yaml#/Id",
        "remote",
        "Id",
    )
    assert get.request_body is not None
    assert get.request_body.unresolved == "remote"
    web, file, script = (m.schema for m in get.responses[0].content)
    assert web is not None and file is not None and script is not None
    assert (web.ref_name, web.unresolved, web.ref_href) == (
        "Pet",
        "remote",
        "https://example.com/schemas.json#/Pet",
    )
    assert file.unresolved == "remote" and file.properties == () and file.ref_href is None
    assert script.ref_href is None  # only http(s) refs become links
    assert get.responses[1].unresolved == "remote"
    assert [o.path for o in doc.operations] == ["/r"]
    assert any("https://example.com/schemas.json#/Pet" in n for n in doc.notes)
    assert any("paths.yaml#/x" in n for n in doc.notes)


def test_missing_local_refs_and_pointer_escapes():
    doc = read(
        wrap(
            """\
            schemas:
              a/b: {type: string}
              "c~d": {type: integer}
            """,
            paths="""{"/m": {get: {responses: {
                "200": {description: ok, content: {
                  application/x: {schema: {$ref: "#/components/schemas/a~1b"}},
                  application/y: {schema: {$ref: "#/components/schemas/c~0d"}},
                  application/z: {schema: {$ref: "#/components/schemas/Nope"}}}},
                "404": {$ref: "#/components/responses/Nope"}}}}}""",
        )
    )
    get = op(doc, "GET", "/m")
    x, y, z = (m.schema for m in get.responses[0].content)
    assert x is not None and y is not None and z is not None
    assert (x.type, x.ref_name) == ("string", "a/b")
    assert (y.type, y.ref_name) == ("integer", "c~d")
    assert (z.ref_name, z.unresolved) == ("Nope", "missing")
    assert get.responses[1].unresolved == "missing"


def test_schema_depth_is_limited():
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH + 10):
        schema = {"type": "object", "properties": {"x": schema}}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/d": {
                "get": {
                    "responses": {
                        "200": {"description": "ok", "content": {"a/b": {"schema": schema}}}
                    }
                }
            }
        },
    }
    view = op(read_openapi(json.dumps(spec)), "GET", "/d").responses[0].content[0].schema
    depth = 0
    while view is not None and view.properties:
        view = view.properties[0].schema
        depth += 1
    assert view is not None and view.unresolved == "limit"
    assert depth == MAX_SCHEMA_DEPTH + 1


def test_ref_fan_out_stops_expanding_but_still_renders():
    # Each level refers to the next ten times: 10^7 nodes if everything were expanded.
    levels = 7
    schemas = {
        f"L{i}": {
            "type": "object",
            "properties": {f"p{j}": {"$ref": f"#/components/schemas/L{i + 1}"} for j in range(10)},
        }
        for i in range(levels)
    }
    schemas[f"L{levels}"] = {"type": "string"}
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "T", "version": "1"},
        "components": {"schemas": schemas},
        "paths": {
            f"/p{k}": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"a/b": {"schema": {"$ref": "#/components/schemas/L0"}}},
                        }
                    }
                }
            }
            for k in range(3)
        },
    }
    started = time.perf_counter()
    doc = read_openapi(json.dumps(spec))
    assert time.perf_counter() - started < 5
    assert len(doc.operations) == 3
    assert any("shown by name only" in n for n in doc.notes)
    last = doc.operations[-1].responses[0].content[0].schema
    assert last is not None and (last.ref_name, last.unresolved) == ("L0", "limit")


def test_json_definitions():
    spec = {
        "openapi": "3.0.1",
        "info": {"title": "J", "version": "1"},
        "paths": {"/j": {"get": {"responses": {"200": {"description": "ok"}}}, "post": {}}},
    }
    doc = read_openapi(json.dumps(spec, indent="\t"))
    assert doc.title == "J"
    assert [(o.method, o.path) for o in doc.operations] == [("GET", "/j"), ("POST", "/j")]
    # JSON-looking YAML (flow style, unquoted keys) still reads
    assert read_openapi("{openapi: 3.0.0, paths: {}}").spec_version == "3.0.0"


# --------------------------------------------------------------------------
# bad input: always DefinitionError, with a message (and a line when known)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "not a list"),
        ("just text", "not a single value"),
        ("info: {title: T}\npaths: {}\n", "neither an 'openapi' nor a 'swagger' key"),
        ('{"asyncapi": "2.6.0"}', "neither an 'openapi' nor a 'swagger' key"),
        ("openapi: 4.0.0\n", "OpenAPI version '4.0.0' is not supported"),
        ("openapi: 3.2.0\n", "OpenAPI version '3.2.0' is not supported"),
        ("openapi: 2.0\n", "OpenAPI version '2.0' is not supported"),
        ("swagger: '1.2'\n", "Swagger version '1.2' is not supported"),
        ("openapi: 3.0.0\n---\nopenapi: 3.0.0\n", "expected a single document"),
        ("openapi: !custom 3.0.0\n", "Not valid YAML"),
        ("openapi: 3.0.0\nx: !!python/object:os.system {}\n", "Not valid YAML"),
    ],
)
def test_refused_definitions(text: str, message: str):
    error = error_of(text)
    assert message in error.message
    assert message in str(error)


def test_unquoted_versions_are_read_as_written():
    assert read_openapi("openapi: 3.1\n").spec_version == "3.1"
    assert read_openapi("swagger: 2.0\n").spec_version == "2.0"


def test_invalid_yaml_names_the_line():
    error = error_of(
        """\
        openapi: 3.0.0
        info:
          title: Broken
        paths:
          /a:
            get: {responses: [unclosed
          /b: {}
        """
    )
    assert error.line == 7
    assert "line 7" in error.message
    assert error.message.startswith("Not valid YAML or JSON")

    tab = error_of("openapi: 3.0.0\ninfo:\n\ttitle: x\n")
    assert tab.line == 3


def test_invalid_json_names_the_line():
    error = error_of('{\n  "openapi": "3.0.0",\n  "info": {"title": "x" "version": "1"}\n}\n')
    assert error.line == 3
    assert error.message.startswith("Not valid JSON")


def test_bad_characters_name_the_line():
    assert error_of("openapi: 3.0.0\ninfo: \x07\n").line == 2
    assert error_of("openapi: 3.0.0\n\ninfo: \ud800\n").line == 3


def test_size_limit():
    padding = "#" + "x" * 1000 + "\n"
    text = "openapi: 3.0.0\n" + padding * (MAX_DEFINITION_BYTES // len(padding) + 1)
    started = time.perf_counter()
    error = error_of(text)
    assert time.perf_counter() - started < 1
    assert "too large" in error.message and f"{MAX_DEFINITION_BYTES:,}" in error.message
    # multi-byte characters count as bytes
    wide = "openapi: 3.0.0\n#" + "é" * (MAX_DEFINITION_BYTES // 2)
    assert "too large" in error_of(wide).message
    # just under the limit is read
    fits = "openapi: 3.0.0\n" + padding * (MAX_DEFINITION_BYTES // len(padding) - 1)
    assert read_openapi(fits).spec_version == "3.0.0"


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic: each level is a list of `width` aliases to the level below."""
    lines = ['lol0: &lol0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * width) + "]")
    return "\n".join(lines)


def schema_laughs(shape: str, levels: int = 9, width: int = 9) -> str:
    """Billion laughs made of schemas, the structure our walk descends into."""
    lines = ["s0: &s0 {type: string}"]
    for i in range(1, levels + 1):
        aliases = [f"*s{i - 1}"] * width
        if shape == "properties":
            body = (
                "{type: object, properties: {"
                + ", ".join(f"k{j}: {a}" for j, a in enumerate(aliases))
                + "}}"
            )
        else:
            body = f"{{{shape}: [" + ", ".join(aliases) + "]}"
        lines.append(f"s{i}: &s{i} {body}")
    return "\n".join(lines)


def with_schema(bomb: str, schema: str) -> str:
    return (
        "openapi: 3.0.0\ninfo: {title: bomb, version: '1'}\nx-bomb:\n"
        + textwrap.indent(bomb, "  ")
        + "\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n"
        + f"          description: ok\n          content: {{a/b: {{schema: {schema}}}}}\n"
    )


@pytest.mark.timeout(30)
@pytest.mark.parametrize("shape", ["properties", "oneOf", "allOf"])
def test_billion_laughs_is_refused_quickly(shape: str):
    text = with_schema(schema_laughs(shape), "*s9")
    assert len(text) < 2000
    started = time.perf_counter()
    error = error_of(text)
    assert time.perf_counter() - started < 5
    assert f"{MAX_WALK_NODES:,} nodes" in error.message
    assert "billion laughs" in error.message


@pytest.mark.timeout(30)
def test_billion_laughs_as_values_is_cut_short():
    # Values (enum, default) are shown as short JSON text: the walk stops at its length.
    text = with_schema(billion_laughs(), "{enum: *lol9, default: *lol9}")
    started = time.perf_counter()
    schema = op(read_openapi(text), "GET", "/x").responses[0].content[0].schema
    assert time.perf_counter() - started < 1
    assert schema is not None and len(schema.enum) == 9
    assert schema.enum[0].startswith('[[[[[[[["lol"') and schema.enum[0].endswith("…")
    assert schema.default is not None and len(schema.default) <= 201


def test_billion_laughs_where_nothing_walks_is_harmless():
    text = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\nx-bomb:\n" + textwrap.indent(
        billion_laughs(), "  "
    )
    started = time.perf_counter()
    assert read_openapi(text).title == "T"
    assert time.perf_counter() - started < 1


@pytest.mark.timeout(30)
def test_merge_key_bomb_loads_in_linear_time():
    # PyYAML copies merged keys: 9 levels of 9 merges would be 9^9 pairs.
    lines = ["m0: &m0 {a: 1}"]
    for i in range(1, 10):
        lines.append(f"m{i}: &m{i}\n  <<: [" + ", ".join([f"*m{i - 1}"] * 9) + "]")
    text = (
        "openapi: 3.0.0\ninfo: {title: T, version: '1'}\nx-merge:\n"
        + textwrap.indent("\n".join(lines), "  ")
        + "\ncomponents: {schemas: {S: {<<: *m9, type: string}}}\n"
    )
    started = time.perf_counter()
    assert read_openapi(text).title == "T"
    assert time.perf_counter() - started < 2
    # merges keep their meaning: own keys win, earlier merged mappings beat later ones
    merged = read_openapi(
        "openapi: 3.0.0\nx: [&a {k: a, only_a: 1}, &b {k: b, only_b: 2}]\n"
        "info:\n  <<: [*a, *b]\n  title: own\n  version: *a\n"
    )
    assert merged.title == "own"


def test_recursive_aliases_and_merges():
    # PyYAML builds a list that contains itself; the walk must stay bounded
    doc = read_openapi(
        "openapi: 3.0.0\npaths:\n  /r:\n    get:\n      parameters:\n"
        "        - {name: q, in: query, schema: {enum: &loop [1, *loop]}}\n"
    )
    enum = op(doc, "GET", "/r").parameters[0].schema
    assert enum is not None and enum.enum[0] == "1" and enum.enum[1].endswith("…")
    # a mapping merging itself: PyYAML drops the merge key before following it
    assert read_openapi("openapi: 3.0.0\nx: &a {<<: *a, b: 1}\n").spec_version == "3.0.0"


def test_deep_nesting_is_refused_without_crashing():
    # libyaml's composer recurses in C: this depth would crash the process unguarded.
    for text in ("[" * 100_000 + "]" * 100_000, "openapi: 3.0.0\nx: " + "[" * 100_000):
        error = error_of(text)
        assert "nested deeper" in error.message or "Not valid" in error.message
    deep_json = '{"openapi": "3.0.0", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    assert "nested deeper" in error_of(deep_json).message


def test_non_string_input():
    with pytest.raises(DefinitionError):
        read_openapi(None)  # type: ignore[arg-type]


# Arbitrary JSON-like values put where an OpenAPI document expects structure.
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "$ref",
                    "type",
                    "items",
                    "properties",
                    "schema",
                    "content",
                    "in",
                    "name",
                    "parameters",
                    "responses",
                    "get",
                    "enum",
                    "oneOf",
                    "required",
                    "200",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
_refs = st.sampled_from(
    ["#/paths", "#/components/schemas/A", "#/", "#", "#/paths/~1a/get", "x.yaml", "#/nope/0"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paths=_values,
    schema=_values,
    ref=_refs,
    swagger=st.booleans(),
)
def test_any_structure_gives_a_doc_or_definition_error(
    paths: Any, schema: Any, ref: str, swagger: bool
):
    spec: dict[str, Any] = {"swagger": "2.0"} if swagger else {"openapi": "3.1.0"}
    spec["components"] = {"schemas": {"A": schema}}
    spec["definitions"] = {"A": schema}
    spec["paths"] = {
        "/a": {
            "get": {
                "parameters": [paths, {"$ref": ref}],
                "responses": {
                    "200": {"schema": schema, "content": {"a/b": {"schema": {"$ref": ref}}}}
                },
            }
        },
        "/b": paths,
    }
    for text in (json.dumps(spec), yaml.safe_dump(spec)):
        try:
            read_openapi(text)
        except DefinitionError as e:
            assert e.message
