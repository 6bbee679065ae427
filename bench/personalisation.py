"""Per-twin baselines against one fleet-wide baseline, on a simulated fleet of unlike assets.

    PYTHONPATH=src .venv/bin/python bench/personalisation.py [--assets N] [--days D] [--seed S]

Each simulated pump reports a bearing temperature every 5 minutes: its own level (40-80 °C),
its own noise (0.3-4 °C) and its own daily load swing. Half the pumps develop one fault in the
second half of the run: a step of +6 times *their own* noise lasting 6 hours — large in degrees
on a noisy pump, small on a quiet one, where it still hides inside the fleet's spread.

Two set-ups see the same samples, in time order, through the same detector class:

- **fleet**: one :class:`SignalDetector` learns the pooled stream of every pump;
- **per twin**: each pump gets ``fleet_prior.from_prior()`` (the fleet detector after the first
  day) and then learns only its own pump.

Over the second half we count false alarms (alarm onsets outside faults, per pump-day) and
missed faults (faults without an alarm while they last), at a few alarm levels (0.5 means "as
surprising as the largest surprise this signal produced lately", 0.9 three times that).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass

from twinkit.analytics import SignalDetector

STEP = 300.0  # seconds between samples
START = 1_780_000_000.0


@dataclass(frozen=True)
class Pump:
    level: float
    noise: float
    swing: float
    fault_start: int | None  # sample index
    fault_length: int

    def faulty(self, i: int) -> bool:
        return self.fault_start is not None and 0 <= i - self.fault_start < self.fault_length


def fleet(assets: int, samples: int, rng: random.Random) -> list[Pump]:
    pumps = []
    for k in range(assets):
        fault = rng.randrange(samples // 2, samples - 100) if k % 2 == 0 else None
        pumps.append(
            Pump(
                level=rng.uniform(40, 80),
                noise=math.exp(rng.uniform(math.log(0.3), math.log(4.0))),
                swing=rng.uniform(0, 6),
                fault_start=fault,
                fault_length=72,
            )
        )
    return pumps


def readings(pumps: list[Pump], samples: int, rng: random.Random) -> list[list[float]]:
    day = 86_400 / STEP
    out = []
    for p in pumps:
        values = []
        for i in range(samples):
            v = p.level + p.swing * math.sin(2 * math.pi * i / day) + rng.gauss(0, p.noise)
            if p.faulty(i):
                v += 6 * p.noise
            values.append(v)
        out.append(values)
    return out


@dataclass
class Tally:
    false_alarms: int = 0
    healthy_days: float = 0.0
    missed: int = 0
    faults: int = 0

    def row(self, name: str) -> str:
        fa = self.false_alarms / self.healthy_days
        miss = self.missed / self.faults
        counts = f"({self.missed}/{self.faults})"
        return f"{name:<10}{fa:>22.3f}{self.false_alarms:>8d}{miss:>10.0%} {counts}"


def evaluate(pumps: list[Pump], scores: list[list[float]], alarm: float, first: int) -> Tally:
    tally = Tally()
    for p, s in zip(pumps, scores, strict=True):
        healthy = sum(1 for i in range(first, len(s)) if not p.faulty(i))
        tally.healthy_days += healthy * STEP / 86_400
        above = False
        caught = False
        for i in range(first, len(s)):
            now = s[i] >= alarm
            if now and not above and not p.faulty(i):
                tally.false_alarms += 1
            if now and p.faulty(i):
                caught = True
            above = now
        if p.fault_start is not None:
            tally.faults += 1
            tally.missed += not caught
    return tally


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--assets", type=int, default=40)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    samples = int(args.days * 86_400 / STEP)
    pumps = fleet(args.assets, samples, rng)
    data = readings(pumps, samples, rng)
    prior_until = int(86_400 / STEP)

    shared = SignalDetector()
    twins: list[SignalDetector] = []
    fleet_scores: list[list[float]] = [[] for _ in pumps]
    twin_scores: list[list[float]] = [[] for _ in pumps]
    for i in range(samples):
        t = START + STEP * i
        if i == prior_until:
            twins = [shared.from_prior() for _ in pumps]
        for k, values in enumerate(data):
            x = {"temp": values[i]}
            fleet_scores[k].append(shared.process_one(x, t))
            twin_scores[k].append(twins[k].process_one(x, t) if twins else 0.0)

    first = samples // 2
    faults = sum(1 for q in pumps if q.fault_start is not None)
    print(
        f"{len(pumps)} pumps, {args.days} days at 5 min, {faults} faults;"
        f" counted over the last {args.days / 2:g} days"
    )
    print(
        f"{'alarm at':<10}{'baseline':<10}{'false alarms/pump-day':>22}{'count':>8}{'missed':>10}"
    )
    for alarm in (0.6, 0.7, 0.8, 0.9):
        for name, scores in (("fleet", fleet_scores), ("per twin", twin_scores)):
            print(f"{alarm:<10}" + evaluate(pumps, scores, alarm, first).row(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
