"""The Pantrypost demo catalog shipped with Greenroom (used by ``greenroom serve --demo``)."""

from importlib import resources
from pathlib import Path

__all__ = ["demo_catalog_root", "demo_location_target"]


def demo_catalog_root() -> Path:
    """Folder holding the demo catalog (package data)."""
    root = resources.files(__name__).joinpath("catalog")
    if not isinstance(root, Path):
        # Only happens when Greenroom is imported from a zip archive; the catalog reader
        # needs real files (globs, relative $text targets), so refuse clearly.
        raise RuntimeError("the demo catalog needs Greenroom installed as files, not a zip archive")
    return root.resolve()


def demo_location_target() -> str:
    """Absolute path of the demo catalog's root catalog-info.yaml."""
    return str(demo_catalog_root() / "catalog-info.yaml")
