"""Building a Portal on a test database and reading what it serves."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from greenroom.catalog.model import BUILTIN_KIND_NAMES
from greenroom.catalog.providers import location_entity_name
from greenroom.config import config_from_dict
from greenroom.portal import Portal


def make_portal(
    database_url: str, tmp_path: Path, catalog: dict[str, Any] | None = None, **sections: Any
) -> Portal:
    data: dict[str, Any] = {
        "dataDir": str(tmp_path / "data"),
        "database": {"url": database_url},
        "catalog": {"rules": [{"allow": list(BUILTIN_KIND_NAMES)}], **(catalog or {})},
        **sections,
    }
    portal = Portal(config_from_dict(data, base_dir=tmp_path))
    portal.migrate()
    return portal


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content).lstrip())
    return path


def component(name: str, *, owner: str = "team-a", extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: {name}
        spec:
          type: service
          lifecycle: production
          owner: {owner}
        """
    ) + textwrap.indent(textwrap.dedent(extra), "  ")


def location_ref(path: Path, type_: str = "file") -> str:
    """The ref of the Location entity generated for a config or registered location."""
    return f"location:default/{location_entity_name(type_, str(path))}"


def status_messages(entity: dict[str, Any] | None) -> list[str]:
    if not entity:
        return []
    return [item["message"] for item in entity.get("status", {}).get("items", [])]


def relations_of(entity: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["type"], r["targetRef"]) for r in entity.get("relations", [])}


def reference_dir() -> Path:
    """The shared reference material: $GREENROOM_REFERENCE, else ../shared/reference of the checkout."""
    if os.environ.get("GREENROOM_REFERENCE"):
        return Path(os.environ["GREENROOM_REFERENCE"])
    parents = Path(__file__).resolve().parents
    return parents[3] / "shared" / "reference" if len(parents) > 3 else Path("/nonexistent")


def example_catalog_config(examples_dir: Path) -> dict[str, Any]:
    """The `catalog` section of Backstage's demo app-config for its example catalog:
    these kinds everywhere, User/Group and Template only from their own locations."""
    templates = examples_dir.parents[2] / "software-templates" / "scaffolder-templates"
    return {
        "rules": [{"allow": ["Component", "API", "Resource", "System", "Domain", "Location"]}],
        "locations": [
            {"type": "file", "target": str(examples_dir / "all.yaml")},
            {
                "type": "file",
                "target": str(examples_dir / "acme-corp.yaml"),
                "rules": [{"allow": ["User", "Group"]}],
            },
            {
                "type": "file",
                "target": f"{templates}/*/template.yaml",
                "rules": [{"allow": ["Template"]}],
            },
        ],
    }
