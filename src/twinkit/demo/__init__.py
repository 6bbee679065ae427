"""The demo fleet: a few DTDL models and a few dozen related twins for ``twinkit demo``."""

from twinkit.demo.fleet import DEMO_MODELS, demo_devices, load_demo_fleet

__all__ = ["DEMO_MODELS", "demo_devices", "load_demo_fleet"]
