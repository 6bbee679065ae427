import { useEffect, useRef, useState } from "preact/hooks";
import { enc, get, type FeedEvent, type ResolvedModel, type TwinDoc } from "../api";
import { TelemetryChart, windowOf } from "../components/Chart";
import { Badge, Card, Empty, ErrorBox, Spinner, StatusDot, useFeed, useFeedScope, useLoad, useTick } from "../components/common";
import { CommandPanel, DesiredEditor, Journal, Relationships, StateTable, TwinAlerts } from "../components/TwinParts";
import { ago, formatValue, isNumericSchema, modelName } from "../format";
import { Link, useLocation } from "../router";

const COLORS = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#dc2626", "#0891b2"];

export function TwinPage(props: { id: string }) {
  const id = props.id;
  const { query } = useLocation();
  const initialWindow = windowOf(query.get("range"));
  const twin = useLoad<TwinDoc>(() => get(`/api/v1/twins/${enc(id)}`), [id]);
  const model = useLoad<ResolvedModel>(() => get(`/api/v1/dashboard/twins/${enc(id)}/model`), [id]);
  const modelChanged = !!twin.data && !!model.data && (twin.data.model ?? null) !== model.data.id;
  useEffect(() => {
    if (modelChanged) model.reload();
  }, [modelChanged]);
  // the cards below the charts load once a chart has drawn (or after 1.5 s), so the charts'
  // history reads do not queue behind them on the server
  const [lower, setLower] = useState(false);
  const noCharts = !!twin.data && !!model.data && !model.data.telemetry.length && !Object.keys(twin.data.telemetry ?? {}).length;
  useEffect(() => {
    const h = setTimeout(() => setLower(true), noCharts ? 0 : 1500);
    return () => clearTimeout(h);
  }, [id, noCharts]);
  const summary = useLoad<{ online: boolean; last_seen: string | null }>(() => get(`/api/v1/dashboard/twins/${enc(id)}/summary`), [id]);
  const now = useTick(1000);
  const refetch = useRef(0);
  useEffect(() => {
    const h = setInterval(summary.reload, 10_000);
    return () => clearInterval(h);
  }, [id]);

  useFeedScope({ twins: [id] }, id);
  // events can arrive faster than renders: fold each into the newest document seen
  const latest = useRef<TwinDoc | undefined>(undefined);
  if (twin.data && (!latest.current || twin.data.revision >= latest.current.revision || twin.data.id !== latest.current.id)) {
    latest.current = twin.data;
  }
  useFeed(
    (e: FeedEvent) => {
      const base = latest.current;
      if (e.twin !== id || !base) return;
      const next = applyEvent(base, e);
      if (next) {
        latest.current = next;
        twin.set(next);
      } else {
        clearTimeout(refetch.current);
        refetch.current = window.setTimeout(twin.reload, 150);
      }
    },
    [id, twin.data],
  );

  if (twin.error) {
    return (
      <div class="page">
        <Breadcrumb id={id} />
        <ErrorBox error={twin.error} retry={twin.reload} />
      </div>
    );
  }
  if (!twin.data) return <div class="page"><Breadcrumb id={id} /><Spinner label={`Loading ${id}…`} /></div>;
  const doc = twin.data;
  const m = model.data;
  const seen = lastSeen(doc) ?? summary.data?.last_seen ?? null;
  const online = summary.data?.online ?? (!!seen && now - new Date(seen).getTime() < 65_000);

  const unitOf = (name: string) => m?.telemetry.find((t) => t.name === name)?.unit ?? m?.properties.find((p) => p.name === name)?.unit ?? null;
  const numericTelemetry = new Set<string>();
  for (const t of m?.telemetry ?? []) if (isNumericSchema(t.schema)) numericTelemetry.add(t.name);
  for (const [k, v] of Object.entries(doc.telemetry ?? {})) if (typeof v === "number") numericTelemetry.add(k);
  const telemetryNames = [...numericTelemetry];
  const score = doc.analytics?.anomaly_score ?? doc.telemetry?.anomaly_score ?? doc.reported?.anomaly_score;
  const rul = doc.analytics?.rul_cycles;

  return (
    <div class="page twin-page">
      <Breadcrumb id={id} />
      <header class="page-head twin-head">
        <div>
          <h1 data-testid="twin-id">{doc.id}</h1>
          <p class="muted">
            <Link href={`/models#${enc(doc.model ?? "")}`}>{modelName(doc.model)}</Link>
            <span class="sep">·</span>
            <span class="mono small">{doc.model ?? "schemaless"}</span>
            <span class="sep">·</span>revision {doc.revision}
          </p>
        </div>
        <div class="head-facts">
          <div class="fact">
            <StatusDot online={online} />
            <div class="muted small">last seen {ago(seen, now)}</div>
          </div>
          {typeof score === "number" && (
            <div class="fact">
              <div class="fact-label">anomaly score</div>
              <div class={`fact-value ${score > 0.8 ? "bad" : score > 0.5 ? "warn" : "good"}`}>{formatValue(score)}</div>
            </div>
          )}
          {typeof rul === "number" && (
            <div class="fact">
              <div class="fact-label">remaining life</div>
              <div class="fact-value">{formatValue(Math.round(rul))} cycles</div>
            </div>
          )}
          {Object.keys(doc.delta ?? {}).length > 0 && <Badge tone="violet">{Object.keys(doc.delta).length} desired pending</Badge>}
          <Link class="btn" href={`/graph?twin=${enc(doc.id)}`}>Graph</Link>
          <Link class="btn" href={`/events?twin=${enc(doc.id)}`}>Events</Link>
        </div>
      </header>

      <TwinAlerts doc={doc} />

      <Card title="Telemetry" class="span-all">
        {telemetryNames.length === 0 ? (
          <Empty title="No telemetry yet" icon="〰">
            Devices publish to <code>twinkit/{doc.id}/telemetry</code> (MQTT) or <code>POST /api/v1/twins/{doc.id}/telemetry</code>.
          </Empty>
        ) : (
          <div class="charts">
            {telemetryNames.map((name, i) => {
              const t = m?.telemetry.find((x) => x.name === name);
              return (
                <TelemetryChart
                  key={`${id}/${name}`}
                  twin={id}
                  path={name}
                  label={t?.display_name || name}
                  unit={unitOf(name)}
                  latest={doc.telemetry?.[name]}
                  color={COLORS[i % COLORS.length]}
                  window={initialWindow}
                  onReady={() => setLower(true)}
                />
              );
            })}
          </div>
        )}
      </Card>

      <div class="grid-2">
        <Card title="State" class="span-2">
          <StateTable doc={doc} model={m} now={now} />
        </Card>
        <Card title="Set desired values">
          <DesiredEditor doc={doc} model={m} onSaved={(d) => d && twin.set(d)} />
        </Card>
        <Card title="Commands">
          <CommandPanel twin={id} model={m} />
        </Card>
        <Card title="Relationships">
          {lower ? <Relationships twin={id} /> : <Spinner />}
        </Card>
        <Card title="Journal">
          {lower ? <Journal twin={id} revision={doc.revision} /> : <Spinner />}
        </Card>
      </div>
    </div>
  );
}

function Breadcrumb(props: { id: string }) {
  return (
    <nav class="breadcrumb" aria-label="breadcrumb">
      <Link href="/">Fleet</Link> <span>/</span> <span>{props.id}</span>
    </nav>
  );
}

export function lastSeen(doc: TwinDoc): string | null {
  let best: string | null = null;
  let bestMs = -Infinity;
  for (const section of ["reported", "telemetry"]) {
    for (const meta of Object.values(doc.metadata?.[section] ?? {})) {
      const t = meta?.updated_at;
      if (!t) continue;
      const ms = new Date(t).getTime();
      if (ms > bestMs) {
        bestMs = ms;
        best = t;
      }
    }
  }
  return best;
}

/** Fold a feed event into the twin document; null when only a refetch can tell. */
function applyEvent(doc: TwinDoc, e: FeedEvent): TwinDoc | null {
  if (e.revision <= doc.revision) return doc;
  if (e.revision !== doc.revision + 1) return null;
  const next: TwinDoc = { ...doc, revision: e.revision, etag: `"${e.revision}"`, updated_at: e.at, metadata: { ...doc.metadata } };
  const stamp = (section: string, key: string, changed: boolean) => {
    const meta = { ...(next.metadata[section] ?? {}) };
    const old = meta[key];
    meta[key] = { changed_at: changed || !old ? e.at : old.changed_at, updated_at: e.at, at: e.data?.at ?? null };
    next.metadata[section] = meta;
  };
  if (e.kind === "TelemetryReceived") {
    next.telemetry = { ...doc.telemetry };
    for (const [k, v] of Object.entries(e.data?.values ?? {})) {
      stamp("telemetry", k, next.telemetry[k] !== v);
      next.telemetry[k] = v;
    }
  } else if (e.kind === "ReportedChanged" || e.kind === "DesiredChanged") {
    const section = e.kind === "ReportedChanged" ? "reported" : "desired";
    const values = { ...(doc as any)[section] };
    for (const [k, v] of Object.entries(e.data?.set ?? {})) {
      stamp(section, k, JSON.stringify(values[k]) !== JSON.stringify(v));
      values[k] = v;
    }
    for (const k of e.data?.removed ?? []) delete values[k];
    (next as any)[section] = values;
  } else if (["CommandSent", "CommandAnswered"].includes(e.kind)) {
    // journal-only events: the state is unchanged
  } else {
    return null;
  }
  next.delta = Object.fromEntries(
    Object.entries(next.desired ?? {}).filter(([k, v]) => JSON.stringify(next.reported?.[k]) !== JSON.stringify(v)),
  );
  return next;
}
