"""The plugin manager: default plugins, entry points and modules named in config."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import pluggy

from greenroom import hookspecs
from greenroom.config import Config
from greenroom.errors import ConfigError

ENTRY_POINT_GROUP = "greenroom.plugins"

# Built-in behaviour ships as plugins through the same hooks third parties use.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "greenroom.catalog.default_plugin",
    "greenroom.org.default_plugin",
    "greenroom.web.default_plugin",
)


def make_plugin_manager(
    config: Config | None = None, *, extra: Iterable[object] = ()
) -> pluggy.PluginManager:
    """A plugin manager with the default plugins, installed plugins and the config's plugins."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for index, name in enumerate(config.plugins if config else ()):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"plugins.{index}: cannot import plugin module {name!r}: {exc}",
                field=f"plugins.{index}",
            ) from None
        if not pm.is_registered(module):
            pm.register(module, name=name)
    for plugin in extra:
        pm.register(plugin)
    return pm


def collect(results: Iterable[Iterable[object] | None]) -> list:
    """Flatten hook results (each plugin returns a list or None) in registration order.

    pluggy calls implementations last-registered first; reversing puts the default
    plugins first, so a third-party processor sees the built-in relations.
    """
    out: list = []
    for items in reversed(list(results)):
        if items:
            out.extend(items)
    return out
