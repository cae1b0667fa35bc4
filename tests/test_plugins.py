"""The plugin core: default plugins through the hooks, plugins named in config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from greenroom.catalog.model import KindDefinition
from greenroom.config import config_from_dict
from greenroom.errors import ConfigError
from greenroom.plugins import collect, make_plugin_manager

from .catalog.helpers import component, location_ref, make_portal, status_messages, write

PLUGIN = """
from greenroom.catalog.model import KindDefinition, Relation
from greenroom.hookspecs import hookimpl


def _validate(entity):
    if not isinstance(entity.get("spec", {}).get("size"), int):
        from greenroom.errors import InputError
        raise InputError("spec.size must be an integer", field="spec.size")


@hookimpl
def catalog_kinds():
    return [KindDefinition("Widget", ("example.com/v1",), _validate, lambda e: [])]


class Stamp:
    name = "stamp"

    def process(self, entity, context):
        labels = {**entity["metadata"].get("labels", {}), "stamped": "yes"}
        return {**entity, "metadata": {**entity["metadata"], "labels": labels}}


@hookimpl
def catalog_processors(config):
    return [Stamp()]
"""


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "widget_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "widget_plugin"
    sys.modules.pop("widget_plugin", None)


def test_builtin_kinds_come_through_the_hooks() -> None:
    pm = make_plugin_manager(config_from_dict({}))
    kinds = collect(pm.hook.catalog_kinds())
    assert all(isinstance(k, KindDefinition) for k in kinds)
    assert {k.kind for k in kinds} >= {
        "Component",
        "API",
        "Resource",
        "System",
        "Domain",
        "Group",
        "User",
        "Location",
        "Template",
    }


def test_unknown_plugin_module_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"plugins\.0: cannot import plugin module 'no_such_plugin_module'"
    ):
        make_plugin_manager(config_from_dict({"plugins": ["no_such_plugin_module"]}))


def test_plugin_from_config_adds_a_kind_and_a_processor(
    database_url: str, tmp_path: Path, plugin_module: str
) -> None:
    catalog = write(
        tmp_path / "c.yaml",
        """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: good-widget
spec:
  size: 3
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: bad-widget
spec:
  size: large
""",
    )
    portal = make_portal(
        database_url,
        tmp_path,
        {
            "locations": [{"type": "file", "target": str(catalog)}],
            "rules": [{"allow": ["Widget", "Location"]}],
        },
        plugins=[plugin_module],
    )
    portal.catalog.process_until_idle()
    widget = portal.catalog.entity_by_ref("widget:default/good-widget")
    assert widget["metadata"]["labels"] == {"stamped": "yes"}
    assert portal.catalog.entity_by_ref("widget:default/bad-widget") is None
    location = portal.catalog.entity_by_ref(location_ref(catalog))
    assert any("spec.size must be an integer" in m for m in status_messages(location))


EMITTER = '''
from greenroom.catalog.processing.types import DeferredEntity
from greenroom.hookspecs import hookimpl


class DocsSite:
    """Gives every component with a `docs` label a Resource of its own."""

    name = "docs-site"

    def process(self, entity, context):
        if entity["kind"] == "Component" and entity["metadata"].get("labels", {}).get("docs"):
            for kind in ("Resource", "Group"):
                context.emit_child(DeferredEntity({
                    "apiVersion": "backstage.io/v1alpha1", "kind": kind,
                    "metadata": {"name": entity["metadata"]["name"] + "-docs"},
                    "spec": {"type": "website", "owner": "team-a"} if kind == "Resource" else {"type": "team", "children": []},
                }, context.location))
        return entity


@hookimpl
def catalog_processors(config):
    return [DocsSite()]
'''


def test_children_of_plugin_processors_obey_rules_and_go_away(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs_emitter.py").write_text(EMITTER)
    monkeypatch.syspath_prepend(str(tmp_path))
    labelled = component("portal", extra="").replace(
        "metadata:\n  name: portal", "metadata:\n  name: portal\n  labels:\n    docs: 'yes'"
    )
    catalog = write(tmp_path / "c.yaml", labelled)
    try:
        portal = make_portal(
            database_url,
            tmp_path,
            {
                "locations": [{"type": "file", "target": str(catalog)}],
                "rules": [{"allow": ["Component", "Resource", "Location"]}],
            },
            plugins=["docs_emitter"],
        )
        portal.catalog.process_until_idle()
        assert portal.catalog.entity_by_ref("resource:default/portal-docs") is not None
        assert portal.catalog.entity_by_ref("group:default/portal-docs") is None
        errors = dict(portal.catalog.processing_errors())["component:default/portal"]
        assert (
            errors[0]["name"] == "NotAllowedError"
            and "group:default/portal-docs" in errors[0]["message"]
        )

        write(tmp_path / "c.yaml", component("portal"))
        portal.catalog.refresh_all()
        portal.catalog.process_until_idle()
        assert portal.catalog.entity_by_ref("resource:default/portal-docs") is None
    finally:
        sys.modules.pop("docs_emitter", None)
