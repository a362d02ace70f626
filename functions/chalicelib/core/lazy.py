"""Modules imported on first use, so each function's cold start pays only for what it calls.

Every Lambda function is entered through ``app.py`` (its middleware must wrap the handler),
and ``app.py`` registers every route and event handler of every function. Were each route
and handler module to import its service, schemas and repositories up front, every cold
start would load the whole app: pydantic, PynamoDB's models, PyJWT and cryptography,
Powertools' utilities. So route modules (``*/routes.py``, ``api/health.py``) and event
handler modules (``*/handlers.py``) import only Chalice and light modules (the ``api``
request helpers, errors, ``get_settings``) at the top, and reach everything else through
``lazy_module``, whose first attribute access imports the module. ``make bench
BENCH=imports`` measures the result; ``tests/integration/test_cold_start_imports.py``
guards it.

Not the stdlib recipe (``importlib.util.LazyLoader``): on Python 3.12.1, which this project
runs locally, its module is not thread-safe: a second thread touching it while the first
runs its code sees a half-built module (an ``AttributeError``), and the local stack runs
handlers on several threads of one process. ``importlib.import_module`` takes the import
system's per-module lock, so a second thread waits for the first, as with any ``import``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

_OWN = frozenset(("_load", "_lazy_name", "_lazy_module", "__class__"))


class LazyModule(ModuleType):
    """Stands for the module ``name``, importing it on first attribute access.

    Reads, writes and deletes of attributes go to the real module (``monkeypatch`` on the
    proxy patches the module). Only the names in ``__slots__`` are the proxy's own.
    """

    __slots__ = ("_lazy_module", "_lazy_name")

    def __init__(self, name: str) -> None:
        super().__init__(name)
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_module", None)

    def _load(self) -> ModuleType:
        module: ModuleType | None = object.__getattribute__(self, "_lazy_module")
        if module is None:
            module = importlib.import_module(object.__getattribute__(self, "_lazy_name"))
            object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattribute__(self, attribute: str) -> Any:
        if attribute in _OWN:
            return object.__getattribute__(self, attribute)
        return getattr(self._load(), attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        setattr(self._load(), attribute, value)

    def __delattr__(self, attribute: str) -> None:
        delattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        name = object.__getattribute__(self, "_lazy_name")
        loaded = object.__getattribute__(self, "_lazy_module") is not None
        return f"<lazy module {name!r}{'' if loaded else ' (not imported yet)'}>"


def lazy_module(name: str) -> ModuleType:
    """The module ``name`` (absolute), imported when an attribute of it is first read."""
    return LazyModule(name)
