"""Access to the running app's settings and store from views."""

from __future__ import annotations

from flask import current_app

from filmld.config import Settings
from filmld.store import Store


def settings() -> Settings:
    return current_app.extensions["filmld.settings"]


def store() -> Store:
    return current_app.extensions["filmld.store"]
