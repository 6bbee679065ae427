"""How twinkit drives a headless Chromium (the dashboard's tests and bench/dashboard.py).

Debian's ``chromium`` package, never a browser downloaded by Playwright, with the flags that
keep it quiet and offline: no sandbox (containers), no GPU, no background network traffic.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("TWINKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
