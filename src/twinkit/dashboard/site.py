"""Serve the built single-page app: real files as they are, every other path gets index.html.

The bundle is built by ``npm run build`` in ``frontend/`` and committed under ``static/`` so the
wheel ships it and nothing is downloaded at run time. Hashed assets are cached forever; the
index is never cached, so a new release is picked up on the next load.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate"}
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}

# paths that belong to the server, never to the app's router
SERVER_PREFIXES = ("/api/", "/healthz", "/metrics", "/openapi.json", "/docs", "/redoc")

MISSING_BUNDLE = """<!doctype html><meta charset="utf-8"><title>twinkit</title>
<p>The dashboard bundle is missing. Run <code>npm ci &amp;&amp; npm run build</code> in
<code>frontend/</code>, or install a twinkit wheel, which ships it.</p>"""


class SinglePageApp(StaticFiles):
    """Static files with a fallback to ``index.html`` for client-side routes."""

    def __init__(self, directory: Path = STATIC) -> None:
        super().__init__(directory=directory, html=False, check_dir=False)
        self.index = directory / "index.html"

    async def get_response(self, path: str, scope: MutableMapping[str, Any]) -> Response:
        request_path = "/" + path.lstrip("/")
        if path in ("", ".", "index.html"):
            return self._index()
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or request_path.startswith(SERVER_PREFIXES):
                raise
            return self._index()
        if response.status_code == 404 and not request_path.startswith(SERVER_PREFIXES):
            return self._index()
        if request_path.startswith("/assets/"):
            response.headers.update(IMMUTABLE)
        return response

    def _index(self) -> Response:
        if not self.index.is_file():
            return HTMLResponse(MISSING_BUNDLE, status_code=503, headers=NO_CACHE)
        return FileResponse(self.index, media_type="text/html", headers=NO_CACHE)
