"""The OpenAPI document and the app's routes agree, call for call."""

from __future__ import annotations

import json
import re

from server.api import OPENAPI_FILE


def get_api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/labelstudio/")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


def get_documented_routes() -> set[tuple[str, str]]:
    document = json.loads(OPENAPI_FILE.read_text())
    assert document["openapi"].startswith("3.")
    return {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }


def test_every_route_is_documented_and_every_document_entry_is_a_route(app) -> None:
    routes = get_api_routes(app)
    assert ("post", "/labelstudio/webhook") in routes  # what Label Studio calls counts too
    assert routes == get_documented_routes()


def test_the_document_is_served_and_its_references_resolve(api_as) -> None:
    response = api_as("ann").get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json
    schemas = document["components"]["schemas"]
    references = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(document))
    assert references and set(references) <= set(schemas)
