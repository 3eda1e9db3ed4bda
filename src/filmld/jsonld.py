"""Compact JSON-LD with filmld's published @context, so plain JSON clients read names."""

from __future__ import annotations

import json

import rdflib

from filmld.namespaces import COMMON_PREFIXES


def context(base: str) -> dict:
    """The @context served at /context.jsonld: prefixes and short schema.org-aligned terms."""
    ctx: dict = {"@version": 1.1, **COMMON_PREFIXES, "filmld": f"{base}ontology/"}
    for term in ("name", "description", "actor", "characterName", "director", "genre",
                 "alternateName", "byArtist", "containedInPlace", "about", "text"):
        ctx[term] = {"@id": f"schema:{term}"}
    for term in ("actor", "director", "byArtist", "containedInPlace", "about"):
        ctx[term]["@type"] = "@id"
    ctx["label"] = {"@id": "rdfs:label"}
    ctx["character"] = {"@id": "filmld:character", "@type": "@id"}
    ctx["sameAs"] = {"@id": "schema:sameAs", "@type": "@id"}
    return ctx


def compact_jsonld(graph: rdflib.Graph, base: str) -> bytes:
    ctx = context(base)
    text = graph.serialize(format="json-ld", context=ctx, auto_compact=True)
    data = json.loads(text)
    return json.dumps(data, ensure_ascii=False, indent=2).encode()
