"""The entry-point registry: middleware, base transports and providers by name.

Three groups, ``wireline.middleware``, ``wireline.transports`` and ``wireline.providers``.
wireline registers its own built-ins through the same groups in its ``pyproject.toml``, so a
third-party package is a peer, not a special case::

    [project.entry-points."wireline.middleware"]
    audit = "acme_wireline.audit:Audit"

A name registered by two distributions is an error naming both, raised when that name is used
(``wireline plugins`` shows the conflict); an unknown name is an error listing the known ones.
Anywhere a name is accepted, ``"package.module:attribute"`` works too, without registering.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

from wireline.errors import PluginError

__all__ = ["GROUPS", "Group", "Plugin", "Registry", "registry"]

Group = Literal["middleware", "transports", "providers"]

#: Short group name -> entry-point group.
GROUPS: dict[str, str] = {
    "middleware": "wireline.middleware",
    "transports": "wireline.transports",
    "providers": "wireline.providers",
}


@dataclass(frozen=True)
class Plugin:
    """One registered entry point.

    Attributes:
        group: ``"middleware"``, ``"transports"`` or ``"providers"``.
        name: The name it is registered under.
        value: What it points at, ``"module:attribute"``.
        distribution: The distribution that registers it (``None`` if unknown).
        version: That distribution's version.
    """

    group: str
    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """Import and return the object the entry point names."""
        return load_object(self.value, key=f"{self.group}:{self.name}")

    @property
    def origin(self) -> str:
        """``"distribution version"``, or ``"an unknown distribution"``."""
        if self.distribution is None:
            return "an unknown distribution"
        return f"{self.distribution} {self.version}" if self.version else self.distribution


class Registry:
    """Reads the entry points once per group (on first use) and resolves names."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Plugin, ...]] = {}

    def refresh(self) -> None:
        """Forget what was read, e.g. after installing a plugin in a running process."""
        with self._lock:
            self._cache.clear()

    def entries(self, group: str) -> tuple[Plugin, ...]:
        """Every entry point of ``group`` (short name), duplicates included, sorted by name."""
        full = _full_group(group)
        cached = self._cache.get(group)
        if cached is None:
            with self._lock:
                cached = self._cache.get(group)
                if cached is None:
                    cached = tuple(sorted((_plugin(group, ep) for ep in entry_points(group=full)), key=_sort_key))
                    self._cache[group] = cached
        return cached

    def names(self, group: str) -> list[str]:
        """The registered names of ``group``, sorted, each once."""
        return sorted({plugin.name for plugin in self.entries(group)})

    def conflicts(self, group: str) -> dict[str, list[Plugin]]:
        """Names registered more than once in ``group``, with every registration."""
        by_name: dict[str, list[Plugin]] = {}
        for plugin in self.entries(group):
            by_name.setdefault(plugin.name, []).append(plugin)
        return {name: plugins for name, plugins in by_name.items() if len(plugins) > 1}

    def get(self, group: str, name: str, *, key: str = "use") -> Plugin:
        """The plugin registered as ``name`` in ``group``.

        Raises:
            PluginError: ``name`` is unknown (the message lists the known names) or registered
                by more than one distribution (the message names them).
        """
        found = [plugin for plugin in self.entries(group) if plugin.name == name]
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(self.names(group)) or "none"
            raise PluginError(key, name, f"a registered {_singular(group)} name (known: {known}) or 'module:attribute'")
        origins = " and ".join(f"{plugin.origin} ({plugin.value})" for plugin in found)
        raise PluginError(
            key,
            name,
            f"a name registered once, but {name!r} is registered by {origins}: uninstall one of them, "
            "or write 'module:attribute' to pick one",
        )

    def load(self, group: str, name: str, *, key: str = "use") -> Any:
        """The object behind ``name``: a registered name or ``"module:attribute"``."""
        if ":" in name:
            return load_object(name, key=key)
        return self.get(group, name, key=key).load()


def load_object(reference: str, *, key: str = "use") -> Any:
    """Import ``"package.module:attribute"`` (the attribute may be dotted), or a module by its name.

    A bare module name is what the ``wireline.providers`` group registers: an adapter module.
    """
    module_name, colon, attribute = reference.partition(":")
    if not module_name or (colon and not attribute):
        raise PluginError(key, reference, "'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(key, reference, f"an importable module ({type(exc).__name__}: {exc})") from exc
    if not colon:
        return obj
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(key, reference, f"an attribute {attribute!r} in module {module_name!r}") from None
    return obj


def _plugin(group: str, entry: EntryPoint) -> Plugin:
    dist = entry.dist
    return Plugin(
        group=group,
        name=entry.name,
        value=entry.value,
        distribution=None if dist is None else dist.metadata["Name"],
        version=None if dist is None else dist.version,
    )


def _sort_key(plugin: Plugin) -> tuple[str, str]:
    return (plugin.name, plugin.distribution or "")


def _full_group(group: str) -> str:
    try:
        return GROUPS[group]
    except KeyError:
        raise PluginError("group", group, f"one of {', '.join(GROUPS)}") from None


def _singular(group: str) -> str:
    return {"middleware": "middleware", "transports": "transport", "providers": "provider"}.get(group, group)


#: The registry wireline uses.
registry = Registry()
