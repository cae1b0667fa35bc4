"""API definitions (`spec.definition` of kind API) as data a server-rendered page shows.

Backstage renders each API type with its own browser widget (Swagger UI for
OpenAPI, GraphiQL, the AsyncAPI React component...), megabytes of JavaScript.
Greenroom renders pages on the server instead:

* OpenAPI (3.0, 3.1) and Swagger 2.0 definitions are read into an `OpenApiDoc`
  (operations grouped by tag, parameters, bodies, responses, schema trees) that a
  template renders as nested lists, with the highlighted source as a second view.
* Every other type (AsyncAPI, GraphQL, gRPC, anything else) is shown as its
  source, syntax-highlighted when the type is known.
* A definition that cannot be read as OpenAPI is shown as plain text with the
  error and its line marked, so the page still shows what the author wrote.

`render_definition` never raises: the entity comes from the catalog, and a bad
definition is the author's problem to see on the page, not a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from greenroom.catalog.apidocs.highlight import highlight, highlight_css, language_for
from greenroom.catalog.apidocs.openapi import (
    MAX_DEFINITION_BYTES,
    DefinitionError,
    MediaTypeView,
    OpenApiDoc,
    OperationGroup,
    OperationView,
    ParameterView,
    PropertyView,
    RequestBodyView,
    ResponseView,
    SchemaAlternatives,
    SchemaView,
    ServerView,
    TagView,
    read_openapi,
)

__all__ = [
    "MAX_DEFINITION_BYTES",
    "DefinitionError",
    "DefinitionView",
    "MediaTypeView",
    "OpenApiDoc",
    "OperationGroup",
    "OperationView",
    "ParameterView",
    "PropertyView",
    "RequestBodyView",
    "ResponseView",
    "SchemaAlternatives",
    "SchemaView",
    "ServerView",
    "TagView",
    "highlight",
    "highlight_css",
    "read_openapi",
    "render_definition",
]


@dataclass(slots=True)
class DefinitionView:
    """What the API page shows for `spec.definition`."""

    kind: Literal["openapi", "source", "error"]
    api_type: str  # spec.type, lower case ("" when missing)
    source_html: str  # the definition highlighted (plain text for errors); "" when there is none
    language: str  # lexer used for source_html: yaml, json, graphql, protobuf or text
    openapi: OpenApiDoc | None = None  # kind "openapi" only
    error: str | None = None  # kind "error": what is wrong
    error_line: int | None = None  # kind "error": 1-based line in the definition, if known


def render_definition(api_entity: dict[str, Any]) -> DefinitionView:
    """The view of an API entity's definition, picked by `spec.type` (case-insensitive)."""
    spec = api_entity.get("spec") if isinstance(api_entity, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    api_type = spec.get("type")
    api_type = api_type.strip().lower() if isinstance(api_type, str) else ""
    definition = spec.get("definition")

    if not isinstance(definition, str):
        # The catalog resolves `$text` before storing; anything else here means the
        # entity was stored without a readable definition.
        message = (
            "This API has no definition (spec.definition is missing)"
            if definition is None
            else "The definition is not text (spec.definition should be a string)"
        )
        return DefinitionView("error", api_type, "", "text", error=message)

    if api_type == "openapi":
        try:
            doc = read_openapi(definition)
        except DefinitionError as e:
            return DefinitionView(
                "error",
                api_type,
                highlight(definition, "text", line_numbers=True, mark_line=e.line),
                "text",
                error=e.message,
                error_line=e.line,
            )
        return DefinitionView(
            "openapi",
            api_type,
            highlight(definition, api_type),
            language_for(definition, api_type),
            openapi=doc,
        )

    return DefinitionView(
        "source", api_type, highlight(definition, api_type), language_for(definition, api_type)
    )
