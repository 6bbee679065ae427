"""A bounded memory of the short shapes one signal usually draws, for spotting a new one.

TL;DR: :class:`ShapeMemory` keeps up to ``capacity`` prototype windows (a few hours of a
signal, down-sampled to block means and expressed in units of the signal's usual spread) and
answers "how far is this window from the nearest shape seen before?". A window that matches no
prototype within ``vigilance`` becomes a new prototype (replacing the least used one when
full); a matching one pulls its prototype towards itself.

This is the idea behind ARTime (adaptive-resonance categories of down-sampled windows, the
best published NAB detector) reduced to a nearest-prototype search over a fixed numpy array:
a pattern that is wrong only as a *sequence* — values each within their usual range, arriving
in an order the signal never drew — is invisible to per-value statistics but far from every
stored shape. :class:`twinkit.analytics.SignalDetector` treats the distance as one more
surprise. Memory is fixed at ``capacity`` x ``width`` floats however long the stream.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

_LEARN_CAP = 20.0  # a prototype keeps following its matches, as if it had seen at most 20
_USE_DECAY = 0.999  # per window: how fast an unused prototype loses its claim to a slot
_RESCALE = 1e100  # use weights grow instead of decaying; renormalised before they overflow


class ShapeMemory:
    """Up to ``capacity`` prototype windows of ``width`` points and how much each is used.

    Use weights decay by ``_USE_DECAY`` per window; rather than multiplying every weight each
    time, new uses are counted in a unit that grows by ``1 / _USE_DECAY`` per window (the same
    order, one scalar update instead of an array pass).
    """

    __slots__ = ("norms", "prototypes", "unit", "used", "uses", "vigilance")

    def __init__(self, capacity: int, width: int, vigilance: float) -> None:
        self.prototypes: NDArray[np.float64] = np.zeros((capacity, width))
        # squared length of each prototype; an empty slot is infinitely far from everything
        self.norms: NDArray[np.float64] = np.full(capacity, np.inf)
        self.uses = [0.0] * capacity  # a plain list: read and written one slot at a time
        self.unit = 1.0
        self.used = 0
        self.vigilance = vigilance

    def __getstate__(self) -> tuple[Any, ...]:
        return self.prototypes, self.norms, self.uses, self.unit, self.used, self.vigilance

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.prototypes, self.norms, self.uses, self.unit, self.used, self.vigilance = state

    def nearest(self, window: NDArray[np.float64], squared: float) -> tuple[int, float]:
        """The closest prototype and its root-mean-square distance; ``(-1, 0.0)`` when empty.

        ``squared`` is ``window · window``. Squared distances are ``|p|² - 2 p·w + |w|²``
        from the cached ``|p|²``: one matrix-vector product instead of a difference array
        (windows are clipped, so the cancellation error is far below any distance that matters).
        """
        if self.used == 0:
            return -1, 0.0
        distances = self.norms - 2.0 * (self.prototypes @ window)
        best = int(distances.argmin())
        gap = float(distances[best]) + squared
        return best, math.sqrt(max(gap, 0.0) / window.shape[0])

    def learn(self, window: NDArray[np.float64], best: int, distance: float) -> None:
        """Fold ``window`` in, given what :meth:`nearest` said about it."""
        self.unit /= _USE_DECAY
        unit = self.unit
        uses = self.uses
        if unit > _RESCALE:
            self.uses = uses = [u / unit for u in uses]
            self.unit = unit = 1.0
        if best >= 0 and distance <= self.vigilance:
            count = uses[best] + unit
            uses[best] = count
            prototype = self.prototypes[best]
            prototype += (window - prototype) * max(unit / count, 1.0 / _LEARN_CAP)
            self.norms[best] = prototype @ prototype
            return
        if self.used < len(uses):
            slot = self.used
            self.used += 1
        else:
            slot = uses.index(min(uses))
        self.prototypes[slot] = window
        self.norms[slot] = window @ window
        uses[slot] = unit
