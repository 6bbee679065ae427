import { useEffect, useRef, useState } from "preact/hooks";
import { get, type FeedEvent } from "../api";
import { Badge, Empty, KIND_TONE, useFeed, useFeedScope, useLoad } from "../components/common";
import { describeEvent } from "../components/TwinParts";
import { formatTime, modelName } from "../format";
import { Link, setQuery, twinHref, useLocation } from "../router";

const KINDS = ["TelemetryReceived", "ReportedChanged", "DesiredChanged", "CommandSent", "CommandAnswered", "AlertRaised", "TwinCreated", "RelationshipAdded"];
const KEEP = 500;

export function EventsPage() {
  const { query } = useLocation();
  const twin = query.get("twin") ?? "";
  const model = query.get("model") ?? "";
  const kinds = new Set((query.get("kinds") ?? "").split(",").filter(Boolean));
  const [events, setEvents] = useState<FeedEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [rate, setRate] = useState(0);
  const count = useRef(0);
  const buffer = useRef<FeedEvent[]>([]);
  const frame = useRef(0);
  const models = useLoad<{ items: { id: string }[] }>(() => get("/api/v1/dashboard/models"), []);
  const [typed, setTyped] = useState(twin);

  useFeedScope(kinds.size ? { kinds: [...kinds] } : "all", [...kinds].sort().join(","));

  const matches = (e: FeedEvent) =>
    (!twin || e.twin.includes(twin)) && (!model || e.model === model) && (kinds.size === 0 || kinds.has(e.kind));

  useFeed((e) => {
    count.current++;
    if (paused || !matches(e)) return;
    buffer.current.push(e);
    if (!frame.current) {
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        const fresh = buffer.current.reverse();
        buffer.current = [];
        setEvents((old) => [...fresh, ...old].slice(0, KEEP));
      });
    }
  }, [paused, twin, model, query.get("kinds")]);

  useFeedRate(count, setRate);

  const toggle = (k: string) => {
    const next = new Set(kinds);
    if (next.has(k)) next.delete(k);
    else next.add(k);
    setEvents([]);
    setQuery({ kinds: [...next].join(",") });
  };

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1>Events</h1>
          <p class="muted">The live change feed · {rate.toLocaleString("en-US")} events/s across the platform</p>
        </div>
        <button class={`btn ${paused ? "primary" : ""}`} onClick={() => setPaused(!paused)}>{paused ? "Resume" : "Pause"}</button>
      </header>
      <div class="toolbar">
        <form
          class="row gap grow"
          onSubmit={(e) => {
            e.preventDefault();
            setEvents([]);
            setQuery({ twin: typed });
          }}
        >
          <input class="input grow" placeholder="Twin id contains…" aria-label="Filter by twin" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
        </form>
        <select class="input" aria-label="Filter by model" value={model} onChange={(e) => { setEvents([]); setQuery({ model: (e.target as HTMLSelectElement).value }); }}>
          <option value="">All models</option>
          {(models.data?.items ?? []).map((m) => <option key={m.id} value={m.id}>{modelName(m.id)}</option>)}
        </select>
      </div>
      <div class="chips kinds" role="group" aria-label="event kinds">
        {KINDS.map((k) => (
          <button key={k} class={`chip toggle ${kinds.has(k) ? "on" : ""}`} aria-pressed={kinds.has(k)} onClick={() => toggle(k)}>{k}</button>
        ))}
      </div>
      {events.length === 0 ? (
        <Empty title={paused ? "Paused" : "Waiting for events…"} icon="≋">
          {paused ? "Resume to follow the feed again." : "New events appear here as devices report and people change twins. Loosen the filters if nothing shows."}
        </Empty>
      ) : (
        <ol class="event-list" data-testid="event-list">
          {events.map((e) => (
            <li key={`${e.seq}-${e.twin}-${e.revision}`}>
              <span class="ev-time mono small">{formatTime(e.at).split(", ").pop()}</span>
              <Badge tone={KIND_TONE[e.kind] ?? ""}>{e.kind}</Badge>
              <Link href={twinHref(e.twin)} class="ev-twin">{e.twin}</Link>
              <span class="ev-body">{describeEvent(e)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function useFeedRate(count: { current: number }, set: (n: number) => void) {
  useEffect(() => {
    let last = { n: count.current, t: performance.now() };
    const h = setInterval(() => {
      const now = performance.now();
      set(Math.round(((count.current - last.n) * 1000) / (now - last.t)));
      last = { n: count.current, t: now };
    }, 2000);
    return () => clearInterval(h);
  }, []);
}
