"""HTML pages rendered with Jinja2 outside Flask, so they can be rendered once and cached
like every other format (templates in templates/, shared with the Flask views)."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from filmld.negotiation import FORMATS
from filmld.renderers import Document

NOT_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
                         + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}"
                                   for plane in range(0, 0x110000, 0x10000)) + "]")
"""What an HTML document may not hold, raw or as a character reference: controls other than
ASCII whitespace (C0 but TAB, LF, FF, CR; DEL; C1) and noncharacters. Each is a parse error
(https://html.spec.whatwg.org/multipage/parsing.html#parse-errors: control-character-in-
input-stream, noncharacter-in-input-stream, control-character-reference)."""


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def visible_controls(value):
    """Jinja's `finalize`, applied to every `{{ ... }}` of every page: a C0 control or DEL
    from the data is shown as its Unicode control picture (U+0001 as U+2401), any other
    character of NOT_IN_HTML as U+FFFD, so a page stays well-formed whatever a literal holds
    (issue 4). The RDF formats and the embedded JSON-LD keep the exact characters."""
    if isinstance(value, Markup):
        return Markup(NOT_IN_HTML.sub(_picture, value)) if NOT_IN_HTML.search(value) else value
    # Anything else is written as str(value): RDF terms too (a Literal's N-Triples form
    # escapes DEL but writes the C1 controls raw).
    text = value if isinstance(value, str) else str(value)
    return NOT_IN_HTML.sub(_picture, text) if NOT_IN_HTML.search(text) else value


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("filmld", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True, finalize=visible_controls)


def _utf16_escape(char: str) -> str:
    data = char.encode("utf-16-be")
    return "".join(f"\\u{data[i]:02x}{data[i + 1]:02x}" for i in range(0, len(data), 2))


def script_json(data: bytes | str) -> Markup:
    """JSON safe inside <script>: `</` and `<!--` cannot end or confuse the element
    (https://html.spec.whatwg.org/multipage/scripting.html#restrictions-for-contents-of-script-elements),
    and what HTML may not hold (NOT_IN_HTML: only ever inside JSON strings) written as JSON
    escapes, so the embedded JSON-LD keeps the exact characters."""
    text = data.decode() if isinstance(data, bytes) else data
    text = NOT_IN_HTML.sub(lambda match: _utf16_escape(match.group()), text)
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
