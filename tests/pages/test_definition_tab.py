"""The Definition tab of API entities, on the demo catalog's definitions."""

from __future__ import annotations

from .conftest import Demo


def test_openapi_definitions_list_their_operations(demo: Demo) -> None:
    url = "/catalog/default/api/orders-api/definition"
    data = demo.client.get(url + "?format=json").json()
    doc = data["tab"]["definition"]["openapi"]
    assert data["tab"]["view"] == "operations"
    assert doc["operations"] and {"GET", "POST"} <= {op["method"] for op in doc["operations"]}
    html = demo.client.get(url).text
    for op in doc["operations"]:
        assert f'id="{op["anchor"]}"' in html
        assert f'<span class="op-path">{op["path"]}</span>' in html
    source = demo.client.get(url + "?view=source").text
    assert 'class="gr-code"' in source and "op-path" not in source


def test_other_definition_types_are_highlighted_source(demo: Demo) -> None:
    for name, type_ in (
        ("inventory-api", "grpc"),
        ("storefront-graphql", "graphql"),
        ("order-events", "asyncapi"),
    ):
        data = demo.client.get(f"/catalog/default/api/{name}/definition?format=json").json()
        definition = data["tab"]["definition"]
        assert definition["kind"] == "source" and definition["api_type"] == type_
        assert "tok-" in definition["source_html"]


def test_only_apis_have_the_tab_and_its_stylesheet_is_cached(demo: Demo) -> None:
    assert (
        demo.client.get("/catalog/default/component/accounts-service/definition").status_code == 404
    )
    tabs = demo.client.get("/catalog/default/api/orders-api?format=json").json()["tabs"]
    assert [t["title"] for t in tabs] == ["Overview", "Definition", "Dependencies", "Inspect"]
    html = demo.client.get("/catalog/default/api/orders-api/definition").text
    start = html.index('href="/assets/code.css?v=') + len('href="')
    css = demo.client.get(html[start : html.index('"', start)])
    assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
    assert ".gr-code" in css.text
