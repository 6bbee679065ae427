// A live telemetry chart: starts from history, keeps moving with the change feed, and reaches
// back into history on zoom and pan; every read is downsampled on the server (every & agg) to
// about one point per pixel, so a series of millions of points draws as fast as a short one.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { ApiError, enc, get, items, qs } from "../api";
import { useFeed } from "./common";
import { formatValue, unitSymbol } from "../format";

const WINDOWS: [string, number][] = [
  ["5m", 5 * 60e3],
  ["1h", 3600e3],
  ["24h", 86400e3],
  ["7d", 7 * 86400e3],
  ["30d", 30 * 86400e3],
];
const MAX_LIVE_POINTS = 5000;

type Range = { live: true; window: number } | { live: false; start: number; end: number };

export function toSeconds(t: unknown): number {
  if (typeof t === "number") return t > 1e11 ? t / 1000 : t;
  return new Date(String(t)).getTime() / 1000;
}

export async function fetchSeries(twin: string, path: string, startMs: number, endMs: number, buckets: number) {
  const everyMs = Math.max(1, Math.floor((endMs - startMs) / Math.max(50, buckets)));
  // the dashboard's numpy-backed read of the same history (see twinkit/dashboard/series.py)
  const url = `/api/v1/dashboard/twins/${enc(twin)}/series/${enc(path)}${qs({
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    every: `${everyMs}ms`,
    agg: "mean",
  })}`;
  let points: [unknown, unknown][];
  try {
    points = items<[unknown, unknown]>(await get(url));
  } catch (error) {
    // a series that has no point yet is not an error: the chart starts empty and fills live
    if (error instanceof ApiError && error.status === 404) points = [];
    else throw error;
  }
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const [t, v] of points) {
    xs.push(toSeconds(t));
    ys.push(typeof v === "number" ? v : v === null ? null : Number(v));
  }
  return [xs, ys] as [number[], (number | null)[]];
}

/** `5m`, `1h`, `24h`, `7d`, `30d` → milliseconds (for `?range=` links); undefined if unknown. */
export function windowOf(label: string | null): number | undefined {
  return WINDOWS.find(([l]) => l === label)?.[1];
}

export function TelemetryChart(props: { twin: string; path: string; label: string; unit?: string | null; latest?: unknown; color?: string; window?: number; onReady?: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useRef<[number[], (number | null)[]]>([[], []]);
  const [range, setRange] = useState<Range>({ live: true, window: props.window ?? 5 * 60e3 });
  const rangeRef = useRef(range);
  rangeRef.current = range;
  const [latest, setLatest] = useState<unknown>(props.latest);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [count, setCount] = useState(0);
  const symbol = unitSymbol(props.unit);

  // create the plot once, as soon as its box exists (a layout effect: no wait for a paint)
  useLayoutEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth);
    const opts: uPlot.Options = {
      width,
      height: 220,
      padding: [8, 8, 0, 0],
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#e2e8f0" } },
        {
          stroke: "#64748b",
          grid: { stroke: "#eef2f7" },
          ticks: { stroke: "#e2e8f0" },
          size: 60,
          values: (_u, splits) => splits.map((v) => formatValue(v) + (symbol ? ` ${symbol}` : "")),
        },
      ],
      series: [
        {},
        {
          label: props.label,
          stroke: props.color ?? "#2563eb",
          width: 1.75,
          fill: (props.color ?? "#2563eb") + "14",
          spanGaps: false,
          points: { show: false },
        },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const start = u.posToVal(u.select.left, "x") * 1000;
            const end = u.posToVal(u.select.left + u.select.width, "x") * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            setRange({ live: false, start, end });
          },
        ],
      },
    };
    plot.current = new uPlot(opts, data.current, el);
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    });
    resize.observe(el);
    // wheel zooms around the cursor, reaching into history
    const onWheel = (e: WheelEvent) => {
      const u = plot.current;
      if (!u) return;
      e.preventDefault();
      const { min, max } = u.scales.x as { min: number; max: number };
      const at = u.posToVal(e.offsetX, "x");
      const factor = e.deltaY > 0 ? 1.5 : 1 / 1.5;
      const start = (at - (at - min) * factor) * 1000;
      const end = Math.min(Date.now(), (at + (max - at) * factor) * 1000);
      setRange({ live: false, start, end });
    };
    plot.current.over.addEventListener("wheel", onWheel, { passive: false });
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  // (re)load from history whenever the range changes; the first read starts with the mount
  useLayoutEffect(() => {
    let alive = true;
    let timer = 0;
    const load = async () => {
      const r = rangeRef.current;
      const end = r.live ? Date.now() : r.end;
      const start = r.live ? end - r.window : r.start;
      const width = plot.current?.bbox.width ? plot.current.bbox.width / devicePixelRatio : box.current?.clientWidth || 600;
      try {
        const series = await fetchSeries(props.twin, props.path, start, end, Math.round(width));
        if (!alive) return;
        data.current = series;
        setCount(series[0].length);
        plot.current?.batch(() => {
          plot.current!.setData(series, false);
          plot.current!.setScale("x", { min: start / 1000, max: end / 1000 });
        });
        setStatus("ready");
        // for bench/dashboard.py: when this range's points are on screen
        requestAnimationFrame(() => {
          performance.mark(`chart-drawn:${props.path}`, { detail: { points: series[0].length } });
          props.onReady?.();
        });
        const last = series[1][series[1].length - 1];
        if (r.live && last != null && latest === undefined) setLatest(last);
      } catch {
        if (alive) setStatus("error");
      }
    };
    if (range.live) void load();
    else timer = window.setTimeout(load, 120); // zooming by wheel: wait for the wheel to settle
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [range, props.twin, props.path]);

  // keep a live window sliding even when no value arrives
  useEffect(() => {
    if (!range.live) return;
    const h = setInterval(() => {
      const u = plot.current;
      if (!u || document.hidden) return;
      const end = Date.now();
      u.setScale("x", { min: (end - range.window) / 1000, max: end / 1000 });
    }, 1000);
    return () => clearInterval(h);
  }, [range]);

  useFeed(
    (e) => {
      if (e.twin !== props.twin || e.kind !== "TelemetryReceived") return;
      const value = e.data?.values?.[props.path];
      if (value === undefined) return;
      setLatest(value);
      const r = rangeRef.current;
      if (!r.live || typeof value !== "number") return;
      const t = toSeconds(e.data?.at ?? e.at);
      const [xs, ys] = data.current;
      let i = xs.length;
      while (i > 0 && xs[i - 1] > t) i--;
      xs.splice(i, 0, t);
      ys.splice(i, 0, value);
      const cut = t - r.window / 1000;
      let drop = 0;
      while (drop < xs.length && xs[drop] < cut) drop++;
      if (drop || xs.length > MAX_LIVE_POINTS) {
        const n = Math.max(drop, xs.length - MAX_LIVE_POINTS);
        xs.splice(0, n);
        ys.splice(0, n);
      }
      const u = plot.current;
      if (u) {
        const end = Math.max(Date.now() / 1000, t);
        u.batch(() => {
          u.setData([xs, ys], false);
          u.setScale("x", { min: end - r.window / 1000, max: end });
        });
      }
      setCount(xs.length);
    },
    [props.twin, props.path],
  );

  const windowLabel = range.live ? WINDOWS.find(([, w]) => w === range.window)?.[0] : null;
  const pan = (direction: number) => {
    const r = rangeRef.current;
    const end = r.live ? Date.now() : r.end;
    const start = r.live ? end - r.window : r.start;
    const shift = (end - start) / 2;
    const nextEnd = end + direction * shift;
    if (nextEnd >= Date.now()) setRange({ live: true, window: end - start });
    else setRange({ live: false, start: start + direction * shift, end: nextEnd });
  };

  return (
    <div class="chart" data-testid={`chart-${props.path}`}>
      <div class="chart-head">
        <div>
          <div class="chart-title">{props.label}</div>
          <div class="chart-value" data-testid={`chart-value-${props.path}`}>
            {formatValue(latest, props.unit)}
          </div>
        </div>
        <div class="chart-tools" role="group" aria-label="time range">
          <button class="btn tiny" title="Back in time" onClick={() => pan(-1)}>◀</button>
          {WINDOWS.map(([label, w]) => (
            <button
              key={label}
              class={`btn tiny ${windowLabel === label ? "active" : ""}`}
              onClick={() => setRange({ live: true, window: w })}
            >
              {label}
            </button>
          ))}
          <button class="btn tiny" title="Forward in time" disabled={range.live} onClick={() => pan(1)}>▶</button>
          {range.live ? (
            <span class="live-pill" title="following new values">● live</span>
          ) : (
            <button class="btn tiny primary" onClick={() => setRange({ live: true, window: 5 * 60e3 })}>Back to live</button>
          )}
        </div>
      </div>
      <div ref={box} class="chart-canvas" data-points={count} />
      <div class="chart-foot muted small">
        {status === "error"
          ? "History could not be read; new values still appear."
          : status === "loading"
            ? "Loading history…"
            : count === 0
              ? "No values in this window yet. Drag to zoom, scroll to zoom out, or pick a longer range."
              : `${count.toLocaleString("en-US")} points shown · drag to zoom, scroll to zoom out`}
      </div>
    </div>
  );
}
