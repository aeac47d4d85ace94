"""Every process-wide cached object built from the environment, found and forgotten.

Each test starts with none (``tests/conftest.py``'s autouse ``fresh_settings``), so a
setting or a fake one test installed never leaks into the next.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any

# Caches whose value does not depend on the environment (the time zone database, the
# parsed template): kept across tests, since rebuilding them costs time and proves
# nothing. A renamed one is merely cleared like the factories.
PURE_CACHES = frozenset(
    {
        "outreach.timezones._zones",
        "outreach_local.template.load_template",
        "outreach_local.runtime._specs",
    }
)
_PACKAGES = ("outreach", "outreach_local")
_is_factory_by_id: dict[int, bool] = {}


def _is_factory(wrapper: Any) -> bool:
    """A cache that holds what the environment built.

    In ``outreach``, an ``lru_cache`` function of no argument (one process-wide object;
    those with arguments memoize pure lookups). In ``outreach_local``, every one but
    :data:`PURE_CACHES` (the local stack also keeps a service per organization).
    """
    key = id(wrapper)
    if key not in _is_factory_by_id:
        name = f"{wrapper.__module__}.{wrapper.__qualname__}"
        local = wrapper.__module__.startswith("outreach_local")
        takes_nothing = not inspect.signature(wrapper.__wrapped__).parameters
        _is_factory_by_id[key] = (local or takes_nothing) and name not in PURE_CACHES
    return _is_factory_by_id[key]


def environment_factories() -> list[Any]:
    """Every cached factory of the loaded ``outreach`` and ``outreach_local`` modules.

    Found by walking the modules, so a factory added or renamed is found too; one a test
    replaced (``monkeypatch.setattr``) is still found where another module imported it.
    """
    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".", 1)[0] not in _PACKAGES:
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, functools._lru_cache_wrapper)
                and str(getattr(value, "__module__", "")).split(".", 1)[0] in _PACKAGES
                and _is_factory(value)
            ):
                found[id(value)] = value
    return list(found.values())


def clear_caches() -> None:
    """Forget every process-wide object built from the environment (settings, signing key,
    provider, dispatcher, services, the local stack's pump, timelines and services)."""
    for factory in environment_factories():
        factory.cache_clear()
