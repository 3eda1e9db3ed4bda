"""Commands defined outside cli.py register here, so cli.py does not grow with each one."""

from __future__ import annotations

from collections.abc import Callable

REGISTRY: list[Callable] = []

# Each module below appends its register(command) function to REGISTRY when imported.
from filmld import (
    contribute_cli,  # noqa: F401  (issue 6: filmld contribute)
    load_cli,  # noqa: F401  (issue 7: filmld load)
)
