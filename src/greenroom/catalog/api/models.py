"""Request bodies and response shapes of the catalog API, for validation and OpenAPI.

Responses are written as JSON bytes straight from the database (entities are
stored as JSON text); these models document them and are not used to build them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenroom.catalog.query.service import MAX_OFFSET


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntityMetadata(_Open):
    name: str
    namespace: str | None = None
    uid: str | None = None
    etag: str | None = None


class Entity(_Open):
    """A served entity (reference §1)."""

    apiVersion: str
    kind: str
    metadata: EntityMetadata
    spec: dict[str, Any] | None = None
    relations: list[dict[str, Any]] | None = None


# Items may be projected with `fields`, so list responses hold partial entities.
PartialEntity = dict[str, Any]


class PageInfo(BaseModel):
    nextCursor: str | None = Field(default=None, description="Absent on the last page.")
    prevCursor: str | None = Field(default=None, description="Absent on the first page.")


class QueryResponse(BaseModel):
    items: list[PartialEntity]
    totalItems: int
    pageInfo: PageInfo


class OrderBy(_Closed):
    field: str = Field(min_length=1)
    order: Literal["asc", "desc"] = "asc"


class FullTextFilter(_Closed):
    term: str = ""
    fields: list[str] | None = None


class QueryBody(BaseModel):
    """POST /entities/by-query. With `cursor`, only `limit` and `fields` are read besides it."""

    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0, le=MAX_OFFSET)
    offset: int | None = Field(default=None, ge=0, le=MAX_OFFSET)
    orderBy: list[OrderBy] | None = None
    fullTextFilter: FullTextFilter | None = None
    fields: list[str] | None = None
    totalItems: Literal["include", "exclude"] | None = None
    query: dict[str, Any] | None = None


class ByRefsBody(BaseModel):
    entityRefs: list[str]
    fields: list[str] | None = None
    query: dict[str, Any] | None = None


class ByRefsResponse(BaseModel):
    items: list[PartialEntity | None]


class FacetsBody(BaseModel):
    facets: list[str] = Field(min_length=1)
    query: dict[str, Any] | None = None


class FacetCount(BaseModel):
    value: str
    count: int


class FacetsResponse(BaseModel):
    facets: dict[str, list[FacetCount]]


class AncestryItem(BaseModel):
    entity: Entity
    parentEntityRefs: list[str]


class AncestryResponse(BaseModel):
    rootEntityRef: str
    items: list[AncestryItem]


class RefreshBody(BaseModel):
    entityRef: str
    authorizationToken: str | None = None


class LocationInput(_Closed):
    type: str = Field(min_length=1)
    target: str = Field(min_length=1)
    presence: Literal["required", "optional"] | None = None


class LocationUpdate(_Closed):
    type: str = Field(min_length=1)
    target: str = Field(min_length=1)


class Location(BaseModel):
    id: str
    type: str
    target: str
    entityRef: str


class LocationItem(BaseModel):
    data: Location


class AddLocationResponse(BaseModel):
    location: Location
    entities: list[PartialEntity]
    exists: bool | None = Field(default=None, description="Only in dry runs.")


class LocationsQueryBody(BaseModel):
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=1)
    query: dict[str, Any] | None = None


class LocationsPage(BaseModel):
    items: list[Location]
    totalItems: int
    pageInfo: PageInfo


class AnalyzeLocation(BaseModel):
    type: str | None = None
    target: str


class AnalyzeBody(BaseModel):
    location: AnalyzeLocation
    catalogFilename: str | None = None


class AnalyzeField(BaseModel):
    field: str
    state: str
    value: str | None = None
    description: str


class GeneratedEntity(BaseModel):
    entity: PartialEntity
    fields: list[AnalyzeField]


class AnalyzeResponse(BaseModel):
    existingEntityFiles: list[dict[str, Any]]
    generateEntities: list[GeneratedEntity]


class ValidateErrors(BaseModel):
    errors: list[dict[str, Any]]


class SerializedError(_Open):
    name: str
    message: str


class ErrorRequest(BaseModel):
    method: str
    url: str


class ErrorStatus(BaseModel):
    statusCode: int


class ErrorResponse(BaseModel):
    """Every error (reference §9.1)."""

    error: SerializedError
    request: ErrorRequest
    response: ErrorStatus
