"""A univariate streaming detector for one telemetry signal (spikes, level shifts, drifts,
changed daily or weekly patterns, flatlines, bursts of noise, shapes it never drew), lean
enough for well over 50k values/s on one core.

TL;DR: :class:`SignalDetector` keeps, in a few dozen floats, a daily and weekly profile and a
small memory of shapes, what one signal of one asset usually does, and scores each new value by
how its surprise compares with the *largest surprises this signal has produced lately* — the
same value can be normal for one pump and alarming for another, and a noisy signal does not
alarm all day.

Per value, in constant time and memory:

1. Six surprises: the value against the slow mean, in slow spreads (spikes, level shifts);
   the fast mean against the slow mean (drifts, sustained shifts); the recent spread collapsing
   against the usual spread (flatlines, stuck sensors) or swelling against its own usual size
   (bursts, spikes coming thicker); when timestamps are given, the value against what this
   signal does at this half-hour of the day — or of the week, whichever explains it better (a
   missing peak, a peak too high, a plateau, a weekday that looks like a Sunday); and, each
   time a block of ``block`` values closes, the last ``shape_width`` block means against the
   nearest of the shapes this signal drew before (:mod:`twinkit.analytics.shapes`, the idea
   behind ARTime: values each in range but in an order never seen).
2. Each surprise is divided by its own recent record (its typical level plus the largest excess
   seen, slowly forgotten; records of a young baseline fade faster). A surprise that matches
   the record scores 0.5, twice the record 0.8, three times 0.9. This makes scores of very
   different signals comparable, which is what lets one alert threshold serve a whole fleet.
3. After an alarm (score ≥ ``alarm``, 0.5 by default) scores that do not top it are halved for
   ``quiet`` values: an echo of the same event is not a new alert, a bigger event still is.
   (NAB rewards only the first detection of an anomaly and charges every later one.)

Timestamps feed the time-of-day and time-of-week profiles and guard against late samples
(scored, not learnt). The defaults were chosen on the 24 public series of the Numenta Anomaly
Benchmark available to the project, checked on two halves of them (see docs/analytics.md).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields, replace
from typing import Any, Self

import numpy as np

from twinkit.analytics.detector import Anomaly, Instant, Sample, as_seconds, signal_value
from twinkit.analytics.shapes import ShapeMemory

_WARMUP = 30  # surprises learnt before any score is given
_SEASON_MIN = 3  # visits of a time-of-day slot before it is trusted
_CHANGES_MIN = 30  # changes of value before a run of repeats can look stuck
_RUN_FLOOR = 4  # repeats always tolerated
_QUIET_FACTOR = 0.5  # how much weaker scores are damped after an alarm
_SHAPE_CLIP = 50.0  # a shape point further than this many spreads is simply "very far"
KINDS = ("spike", "shift", "flatline", "pattern", "burst", "shape")
"""The kinds of surprise, as :attr:`Anomaly.kind` names them: a value far from the usual level,
a sustained move of the level, a collapsed spread, a value unlike this time of day or week,
a swollen spread, a stretch of signal unlike any shape it drew before."""
_SURPRISES = len(KINDS)


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """The knobs of :class:`SignalDetector`; horizons count values, not seconds."""

    signal: str | None = None  # which key of the sample to read; None: the only key
    slow: int = 150  # horizon of the usual level and spread
    fast: int = 16  # horizon of the recent level and spread
    horizon: int = 2000  # horizon of the typical surprise
    forget: float = 0.9998  # per value: how fast a surprise record fades (half-life ~3500)
    young: float = 0.3  # how fast records of a young baseline fade
    # opt-in stuck-sensor check for signals that never repeat a value more than ``stuck`` times
    # in a row: a longer run of exact repeats alarms (counts and quantised data repeat
    # naturally, hence off by default)
    stuck: int | None = None
    alarm: float = 0.5  # score that starts a quiet period (0.5: as surprising as the record)
    quiet: int = 100  # values after an alarm during which scores not above it are damped
    slot_seconds: float = 1800.0  # width of one time-of-day slot
    slots: int = 48  # slots per day (48 x 30 min); the weekly profile has 7 x as many
    season_rate: float = 0.1  # how fast a slot's profile follows change
    block: int = 6  # values averaged into one point of a shape (0: no shape memory)
    shape_width: int = 6  # points per shape (6 x 6 values: 3 hours of 5-minute data)
    shapes: int = 64  # prototype shapes remembered
    vigilance: float = 0.5  # distance (in usual spreads) within which a shape is a known one


class SignalDetector:
    """Streaming anomaly detector for one signal.

    >>> import random
    >>> from datetime import UTC, datetime, timedelta
    >>> from twinkit.analytics import SignalDetector
    >>> rng = random.Random(7)
    >>> d = SignalDetector()
    >>> start = datetime(2026, 1, 1, tzinfo=UTC)
    >>> for i in range(2000):
    ...     t = start + timedelta(minutes=5 * i)
    ...     _ = d.process_one({"temp": rng.gauss(20.0, 0.5)}, t)
    >>> t = start + timedelta(minutes=5 * 2000)
    >>> round(d.score_one({"temp": 20.4}, t), 3)
    0.076
    >>> round(d.score_one({"temp": 24.0}, t), 3)
    0.884
    >>> d.explain_one({"temp": 24.0}, t).top()
    [('temp', 1.0)]
    """

    def __init__(self, config: SignalConfig | None = None, **overrides: Any) -> None:
        known = {f.name for f in fields(SignalConfig)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown SignalDetector option(s): {', '.join(sorted(unknown))}")
        self.config = replace(config or SignalConfig(), **overrides)
        self.n = 0
        self.last_t: float | None = None
        self.mean = 0.0
        self.var = 0.0
        self.fast_mean = 0.0
        self.fast_var = 0.0
        # per surprise (spike, shift, flat, season): typical level and record excess
        self.typical = [0.0] * _SURPRISES
        self.record = [0.0] * _SURPRISES
        self.usual_fast_var = 0.0
        self.last_v = math.nan  # repeats: current run, longest completed run, changes seen
        self.run = 0
        self.longest_run = 0
        self.changes = 0
        self.quiet_left = 0
        self.quiet_level = 0.0
        # time-of-day and time-of-week profiles: per slot (visits, mean, variance)
        self.season: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * self.config.slots
        self.week: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * (self.config.slots * 7)
        # shapes: the running block sum, the last block means, shape windows seen, the distance
        # of the newest window to the known shapes (held until the next block closes)
        self.block_sum = 0.0
        self.block_n = 0
        self.blocks: list[float] = []
        self.windows = 0
        self.shape = 0.0
        cfg = self.config
        self.memory = ShapeMemory(cfg.shapes, cfg.shape_width, cfg.vigilance)

    # -- verbs ------------------------------------------------------------------------------

    def learn_one(self, x: Sample, t: Instant = None) -> None:
        """Update the baseline with one sample (late or missing samples are ignored)."""
        self.process_one(x, t)

    def score_one(self, x: Sample, t: Instant = None) -> float:
        """Anomaly score of ``x`` against the past, in [0, 1]; does not change state."""
        v = signal_value(x, self.config.signal)
        if v is None:
            return 0.0
        return self._step(v, as_seconds(t), False)[0]

    def process_one(self, x: Sample, t: Instant = None) -> float:
        """Score ``x`` against the past, then learn it; returns the score."""
        v = signal_value(x, self.config.signal)
        if v is None:
            return 0.0
        ts = as_seconds(t)
        if ts is not None:
            if self.last_t is not None and ts < self.last_t:
                return self._step(v, ts, False)[0]
            self.last_t = ts
        return self._step(v, ts, True)[0]

    def explain_one(self, x: Sample, t: Instant = None) -> Anomaly:
        """The score of ``x``, its one signal, and the kind of surprise that dominated it."""
        v = signal_value(x, self.config.signal)
        if v is None:
            return Anomaly(0.0, {})
        score, kind = self._step(v, as_seconds(t), False)
        if score <= 0.0:
            return Anomaly(score, {})
        name = self.config.signal or next(iter(x))
        return Anomaly(score, {name: 1.0}, KINDS[kind])

    def from_prior(self) -> Self:
        """A twin's detector starting from this fleet detector's baseline.

        The copy keeps the fleet's level, spread and daily and weekly profiles, counted as
        only a few values (a few visits per slot) so the twin's own values quickly take over,
        and the fleet's shapes (a twin's new shapes soon replace the ones it never draws).
        It forgets the fleet's surprise records (a fleet's surprises are not one asset's) and
        alarm state, and re-learns them for a short warm-up before it scores.
        """
        twin = copy.deepcopy(self)
        twin.n = min(self.n, 2 * self.config.fast)
        twin.season = [(min(k, _SEASON_MIN), m, v) for k, m, v in self.season]
        twin.week = [(min(k, _SEASON_MIN), m, v) for k, m, v in self.week]
        twin.typical = [0.0] * _SURPRISES
        twin.record = [0.0] * _SURPRISES
        twin.block_sum, twin.block_n, twin.blocks, twin.windows, twin.shape = 0.0, 0, [], 0, 0.0
        twin.last_v, twin.run, twin.longest_run, twin.changes = math.nan, 0, 0, 0
        twin.quiet_left = 0
        twin.quiet_level = 0.0
        twin.last_t = None
        return twin

    # -- internals ---------------------------------------------------------------------------

    def _step(self, v: float, ts: float | None, commit: bool) -> tuple[float, int]:
        """Score ``v`` (and say which surprise dominated); when ``commit``, fold it in.

        One code path for ``score_one`` and ``process_one`` keeps them identical by
        construction; the body is unrolled because it runs once per value.
        """
        cfg = self.config
        n = self.n + 1
        a_slow = max(2.0 / (cfg.slow + 1), 1.0 / n)
        a_fast = max(2.0 / (cfg.fast + 1), 1.0 / n)
        mean = self.mean
        var = self.var
        sd = math.sqrt(var) + 1e-9 * (abs(mean) + 1.0)
        d = v - mean
        fd = v - self.fast_mean
        fast_mean = self.fast_mean + a_fast * fd
        fast_var = (1.0 - a_fast) * (self.fast_var + a_fast * fd * fd)

        spike = abs(d) / sd
        shift = abs(fast_mean - mean) / sd
        flat = 0.0
        if n > cfg.fast:
            flat = math.log((var + 1e-300) / (fast_var + 1e-12 * var + 1e-300))
            if flat < 0.0:
                flat = 0.0
        burst = 0.0
        usual = self.usual_fast_var
        if n > cfg.fast and usual > 0.0:
            burst = math.log((fast_var + 1e-300) / (usual + 1e-12 * var + 1e-300))
            if burst < 0.0:
                burst = 0.0
        # time-of-day / time-of-week residuals; a tenth of the usual spread is added to a slot's
        # own spread so a slot that never varied does not make every wobble infinitely odd
        season = 0.0
        slot = wslot = -1
        if ts is not None:
            slot = int(ts // cfg.slot_seconds) % cfg.slots
            visits, s_mean, s_var = self.season[slot]
            if visits >= _SEASON_MIN:
                season = abs(v - s_mean) / (math.sqrt(s_var) + 0.1 * sd)
            wslot = int(ts // cfg.slot_seconds) % (cfg.slots * 7)
            w_visits, w_mean, w_var = self.week[wslot]
            if w_visits >= _SEASON_MIN:
                weekly = abs(v - w_mean) / (math.sqrt(w_var) + 0.1 * sd)
                if weekly < season:
                    season = weekly

        # shape: when this value closes a block, the window of the last block means (in usual
        # spreads from the usual level) against the shapes this signal drew before; the
        # distance then stands until the next block closes
        shape = self.shape
        distance = 0.0
        best = -1
        block_sum = self.block_sum + v
        block_n = self.block_n + 1
        closes = 0 < cfg.block <= block_n
        window: list[float] = []
        points = None
        if closes:
            window = [*self.blocks, block_sum / block_n]
            if len(window) == cfg.shape_width and n > 2 * cfg.fast + _WARMUP:
                inv = 1.0 / sd
                if max(max(window) - mean, mean - min(window)) * inv <= _SHAPE_CLIP:
                    points = (np.array(window) - mean) * inv
                else:  # rare: a wild value; clip it (and keep huge numbers out of numpy)
                    points = np.array(
                        [min(max((m - mean) * inv, -_SHAPE_CLIP), _SHAPE_CLIP) for m in window]
                    )
                best, distance = self.memory.nearest(points, float(points @ points))
                shape = distance if self.windows >= _WARMUP else 0.0

        # stuck (opt-in): the value repeats exactly for longer than the signal ever did
        run = self.run + 1 if v == self.last_v else 0
        typical = self.typical
        record = self.record
        ratio = spike / (typical[0] + record[0] + 1e-9)
        kind = 0
        r = shift / (typical[1] + record[1] + 1e-9)
        if r > ratio:
            ratio, kind = r, 1
        r = flat / (typical[2] + record[2] + 1e-9)
        if r > ratio:
            ratio, kind = r, 2
        r = season / (typical[3] + record[3] + 1e-9)
        if r > ratio:
            ratio, kind = r, 3
        r = burst / (typical[4] + record[4] + 1e-9)
        if r > ratio:
            ratio, kind = r, 4
        r = shape / (typical[5] + record[5] + 1e-9)
        if r > ratio:
            ratio, kind = r, 5
        if cfg.stuck is not None and self.changes >= _CHANGES_MIN and self.longest_run <= cfg.stuck:
            r = run / (self.longest_run + _RUN_FLOOR)
            if r > ratio:
                ratio, kind = r, 2
        score = 0.0
        if n > 2 * cfg.fast + _WARMUP:
            r2 = ratio * ratio
            score = r2 / (r2 + 1.0)
        # NAB-style suppression: within ``quiet`` values of an alarm, a score that does not
        # top it is an echo of the same event and is damped; a stronger one is a new alarm
        quiet_left = self.quiet_left
        echo = False
        if quiet_left > 0:
            quiet_left -= 1
            if score <= self.quiet_level:
                score *= _QUIET_FACTOR
                echo = True
        if not commit:
            return score, kind

        if score >= cfg.alarm and not echo:
            self.quiet_left = cfg.quiet
            self.quiet_level = score
        else:
            self.quiet_left = quiet_left
        if run == 0 and v != self.last_v:
            if self.run > self.longest_run:
                self.longest_run = self.run
            self.changes += 1
        self.run = run
        self.last_v = v
        self.n = n
        self.mean = mean + a_slow * d
        self.var = (1.0 - a_slow) * (var + a_slow * d * d)
        self.fast_mean = fast_mean
        self.fast_var = fast_var
        self.usual_fast_var = usual + a_slow * (fast_var - usual)
        if n > 2 * cfg.fast:  # surprises of the first values say nothing yet
            a = max(2.0 / (cfg.horizon + 1), 1.0 / (n - 2 * cfg.fast))
            # young records come from immature baselines: let them fade faster
            forget = min(cfg.forget, 1.0 - cfg.young / (n - 2 * cfg.fast))
            for i, c in enumerate((spike, shift, flat, season, burst)):
                m = typical[i] + a * (c - typical[i])
                typical[i] = m
                excess = record[i] * forget
                record[i] = c - m if c - m > excess else excess
        if closes:
            if points is not None:
                self.windows += 1
                a = max(2.0 / (cfg.horizon + 1), 1.0 / self.windows)
                m = typical[5] + a * (distance - typical[5])
                typical[5] = m
                excess = record[5] * cfg.forget**cfg.block
                record[5] = distance - m if distance - m > excess else excess
                self.memory.learn(points, best, distance)
                self.shape = shape
            self.blocks = window[1:] if len(window) == cfg.shape_width else window
            self.block_sum = 0.0
            self.block_n = 0
        else:
            self.block_sum = block_sum
            self.block_n = block_n
        if slot >= 0:
            visits, s_mean, s_var = self.season[slot]
            visits += 1
            a = max(cfg.season_rate, 1.0 / visits)
            ds = v - s_mean
            self.season[slot] = (visits, s_mean + a * ds, (1.0 - a) * (s_var + a * ds * ds))
            w_visits, w_mean, w_var = self.week[wslot]
            w_visits += 1
            a = max(cfg.season_rate, 1.0 / w_visits)
            ds = v - w_mean
            self.week[wslot] = (w_visits, w_mean + a * ds, (1.0 - a) * (w_var + a * ds * ds))
        return score, kind
