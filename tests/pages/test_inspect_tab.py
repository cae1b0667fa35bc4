"""The Inspect tab: the served entity as YAML and JSON, relations, status and origin."""

from __future__ import annotations

import html
import re

import orjson
import yaml

from .conftest import Demo


def test_inspect_shows_the_served_entity_in_both_formats(demo: Demo) -> None:
    url = "/catalog/default/component/accounts-service/inspect"
    served = orjson.loads(demo.portal.catalog.queries.by_ref("component:default/accounts-service"))
    data = demo.client.get(url + "?format=json").json()["tab"]
    assert data["view"] == "yaml"
    text = html.unescape(_strip_tags(data["source_html"]))
    assert yaml.safe_load(text) == served
    as_json = demo.client.get(url + "?view=json&format=json").json()["tab"]
    assert orjson.loads(html.unescape(_strip_tags(as_json["source_html"]))) == served
    assert {(r["type"], r["ref"]) for r in data["relations"]} == {
        (r["type"], r["targetRef"]) for r in served["relations"]
    }
    assert data["managed_by"]["location"].startswith("file:")
    assert data["ancestry"][0]["ref"] == "component:default/accounts-service"
    assert any(item["ref"].startswith("location:") for item in data["ancestry"][1:])


def _strip_tags(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", markup)
