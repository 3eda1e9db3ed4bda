"""The Flask application: an app factory wiring settings, the store and the blueprints."""

from __future__ import annotations

from flask import Flask

from filmld.config import Settings, from_env
from filmld.pages import visible_controls
from filmld.store import Store


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    """The WSGI app; `store` defaults to the configured dataset, loaded from the files."""
    from filmld.dataset import open_dataset
    from filmld.web import errors, resources, security

    settings = settings or from_env()
    app = Flask("filmld", static_folder=None)
    # The Flask views' templates show data too (contributions, reports): the same finalize
    # as filmld.pages keeps control characters out of every page.
    app.jinja_options = {**app.jinja_options, "finalize": visible_controls}
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["filmld.settings"] = settings
    app.extensions["filmld.store"] = store if store is not None else open_dataset(settings)
    errors.register(app)
    security.register(app)
    app.register_blueprint(resources.blueprint)
    from filmld.web import cache, dataset  # issue 4: home, dumps, VoID, ontology; render cache

    app.register_blueprint(dataset.blueprint)
    from filmld.web import contributions  # issue 6: POST /contributions, POST /validate

    app.register_blueprint(contributions.blueprint)
    from filmld.web import sparql  # issue 5: /sparql, the SPARQL 1.1 Protocol endpoint

    app.register_blueprint(sparql.blueprint)
    from filmld.web.sparql_shortcut import SparqlShortcut  # issue 5: plain GETs, no Flask

    the_store = app.extensions["filmld.store"]
    # On a remote store /sparql answers are never kept (the store evaluates each query) and
    # the endpoint reads the graph registry itself while the query runs (store/remote.py
    # query_stream): the version read before it would be one more round trip (issue 7).
    never_kept = None if hasattr(the_store, "checkpoint") else _is_sparql
    app.wsgi_app = cache.RenderCache(SparqlShortcut(app.wsgi_app, app), the_store,
                                     never_kept=never_kept)
    return app


def _is_sparql(environ: dict) -> bool:
    return environ.get("PATH_INFO") == "/sparql"
