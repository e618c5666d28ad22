"""/docs: the OpenAPI document as one plain HTML page, rendered here.

No script and nothing from another site: the page is served on the same origin as the session
cookie, so it loads only the server's own style sheet (a CDN's script there could act as the
logged-in user). /openapi.json stays the machine-readable document.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

METHODS = ("get", "post", "put", "patch", "delete")


def install(app: FastAPI) -> None:
    """Serve /docs from `app`'s own OpenAPI document."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(render(app.openapi()))


def render(doc: dict[str, Any]) -> str:
    """The page: the API's description, then each operation with its parameters and fields."""
    info = doc.get("info", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(str(info.get('title', 'API')))} API</title>",
        "<link rel='stylesheet' href='/static/style.css'></head><body><main>",
        f"<h1>{escape(str(info.get('title', 'API')))} API</h1>",
        f"<p>{escape(str(info.get('description', '')))}</p>",
        "<p>The document itself: <a href='/openapi.json'>/openapi.json</a>.</p>",
    ]
    schemas = doc.get("components", {}).get("schemas", {})
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                parts.append(_operation(method, path, item[method], schemas))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    rows = [
        (p["name"], p.get("in", ""), p.get("required", False), p.get("description", ""))
        for p in op.get("parameters", [])
    ]
    for content in op.get("requestBody", {}).get("content", {}).values():
        schema = _resolve(content.get("schema", {}), schemas)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            rows.append((name, "body", name in required, _describe(prop, schemas)))
    answers = ", ".join(
        f"{escape(code)} {escape(str(r.get('description', '')))}"
        for code, r in op.get("responses", {}).items()
    )
    return "".join(
        [
            f"<section><h2><code>{method.upper()} {escape(path)}</code></h2>",
            f"<p>{escape(str(op.get('summary', '')))}</p>",
            f"<p>{escape(str(op.get('description', '')))}</p>" if op.get("description") else "",
            _table(rows) if rows else "",
            f"<p>Answers: {answers}</p></section>",
        ]
    )


def _table(rows: list[tuple[str, str, bool, str]]) -> str:
    body = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(where)}</td>"
        f"<td>{'yes' if required else ''}</td><td>{escape(text)}</td></tr>"
        for name, where, required, text in rows
    )
    head = "<tr><th>name</th><th>in</th><th>required</th><th>description</th></tr>"
    return f"<table>{head}{body}</table>"


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    found = schemas.get(ref.rsplit("/", 1)[-1]) if ref else None
    return found if isinstance(found, dict) else schema


def _describe(prop: dict[str, Any], schemas: dict[str, Any]) -> str:
    prop = _resolve(prop, schemas)
    return str(prop.get("description") or prop.get("title") or "")
