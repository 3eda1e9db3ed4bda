"""Commands defined outside cli.py register here, so cli.py does not grow with each one."""

from __future__ import annotations

from collections.abc import Callable

REGISTRY: list[Callable] = []
