"""HTML pages rendered with Jinja2 outside Flask, so they can be rendered once and cached
like every other format (templates in templates/, shared with the Flask views)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from filmld.negotiation import FORMATS
from filmld.renderers import Document


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("filmld", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def script_json(data: bytes | str) -> Markup:
    """JSON safe inside <script>: `</` and `<!--` cannot end or confuse the element
    (https://html.spec.whatwg.org/multipage/scripting.html#restrictions-for-contents-of-script-elements)."""
    text = data.decode() if isinstance(data, bytes) else data
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def alternates(iri: str, current: str, query: str = "") -> list[dict]:
    return [{"href": f"{iri}.{f.name}{query}", "label": f.label, "type": f.media_type}
            for f in FORMATS.values() if f.name != current]


def render(template: str, **values) -> bytes:
    return environment().get_template(template).render(**values).encode()


def render_page(doc: Document) -> bytes:
    """The entity page: the view model, the neighbourhood picture and the JSON-LD."""
    from filmld.renderers import render_jsonld
    from filmld.svg import choose, neighbourhood
    from filmld.view_model import page_model

    if doc.iri.startswith(f"{doc.base}shapes/"):
        page = _shape_page(doc)
        if page is not None:
            return page
    description = doc.description
    model = page_model(description, doc.store, doc.base)
    query = f"?page={description.page}" if description.page > 1 else ""
    hood = choose(model.neighbours) if model.neighbours else None
    return render(
        "entity.html", model=model, base=doc.base, page=description,
        formats=alternates(doc.iri, "html", query),
        jsonld=script_json(render_jsonld(doc)), hood=hood,
        picture=Markup(neighbourhood(model.title, hood)) if hood else None)


def _shape_page(doc: Document) -> bytes | None:
    """A SHACL shape's page (its targets, property shapes and constraints), or None when
    the IRI is no shape of the shapes graph (then it is an entity page like any other)."""
    from filmld.renderers import render_jsonld
    from filmld.shapes_model import shape

    store = doc.store
    model = shape(store.graph_triples(store.graph_iri("shapes")),
                  store.graph_triples(store.graph_iri("ontology")), doc.base, doc.iri)
    if model is None:
        return None
    return render("shape.html", model=model, base=doc.base,
                  formats=alternates(doc.iri, "html"), jsonld=script_json(render_jsonld(doc)))
