"""The web dashboard: a single-page app served at ``/`` next to the API.

>>> app = create_app(platform)      # doctest: +SKIP
>>> mount(app, platform)            # doctest: +SKIP

``mount`` must run after the API's routes are registered: the app is a catch-all at ``/``
(client-side routes such as ``/twins/pump-1`` fall back to ``index.html``).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Mount

from twinkit.dashboard.routes import PREFIX, build_router
from twinkit.dashboard.site import STATIC, SinglePageApp
from twinkit.platform import Platform


def mount(app: FastAPI, platform: Platform | None = None) -> None:
    """Serve the dashboard at ``/`` and its helper endpoints at ``/api/v1/dashboard``.

    ``platform`` defaults to ``app.state.platform`` (looked up per request).
    """
    if platform is not None:
        app.state.dashboard_platform = platform
    if not any(getattr(r, "path", "").startswith(PREFIX) for r in app.router.routes):
        app.include_router(build_router())
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "name", "") != "dashboard"]
    app.router.routes.append(Mount("/", app=SinglePageApp(STATIC), name="dashboard"))


__all__ = ["STATIC", "mount"]
