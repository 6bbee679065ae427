// The pieces of the twin page: state side by side, desired editor, command forms,
// relationships, journal and alerts.
import { useState } from "preact/hooks";
import { ApiError, enc, get, items, request, type Content, type FeedEvent, type Relationship, type ResolvedModel, type TwinDoc } from "../api";
import { ago, formatTime, formatValue, schemaText, unitSymbol } from "../format";
import { Link, twinHref } from "../router";
import { Badge, Empty, ErrorBox, KIND_TONE, Spinner, useFeed, useLoad } from "./common";
import { SchemaInput, coerce, toRaw, type Problem } from "./SchemaForm";
import { AlertActions } from "../pages/Alerts";

type Meta = { changed_at?: string; updated_at?: string; at?: string | null };

function Stamp(props: { meta?: Meta; now: number }) {
  const m = props.meta;
  if (!m?.updated_at) return null;
  const title = `changed ${formatTime(m.changed_at)}\nupdated ${formatTime(m.updated_at)}${m.at ? `\ndevice time ${formatTime(m.at)}` : ""}`;
  return (
    <div class="stamp" title={title}>
      changed {ago(m.changed_at, props.now)}
      {m.updated_at !== m.changed_at && <> · updated {ago(m.updated_at, props.now)}</>}
    </div>
  );
}

export function StateTable(props: { doc: TwinDoc; model?: ResolvedModel; now: number }) {
  const { doc, model, now } = props;
  const props_ = new Map<string, Content | undefined>();
  for (const p of model?.properties ?? []) props_.set(p.name, p);
  for (const k of [...Object.keys(doc.reported ?? {}), ...Object.keys(doc.desired ?? {})]) if (!props_.has(k)) props_.set(k, undefined);
  const telemetry = Object.keys(doc.telemetry ?? {});
  if (props_.size === 0 && telemetry.length === 0) {
    return <Empty title="No values yet" icon="◌">The device reports on <code>twinkit/{doc.id}/reported</code>; desired values can be set here.</Empty>;
  }
  return (
    <div class="table-wrap">
      <table class="table state" data-testid="state-table">
        <thead>
          <tr>
            <th>Property</th>
            <th>Reported</th>
            <th>Desired</th>
            <th>Sync</th>
          </tr>
        </thead>
        <tbody>
          {[...props_.entries()].map(([name, c]) => {
            const pending = name in (doc.delta ?? {});
            const hasDesired = name in (doc.desired ?? {});
            return (
              <tr key={name} data-property={name}>
                <td data-label="Property">
                  <div class="prop-name">{c?.display_name || name}</div>
                  <div class="muted small">
                    {schemaText(c?.schema)} {c?.unit ? `· ${unitSymbol(c.unit)}` : ""} {c?.writable ? <Badge tone="violet">writable</Badge> : null}
                  </div>
                </td>
                <td data-label="Reported" class="value-cell" data-testid={`reported-${name}`}>
                  <div class="value">{formatValue(doc.reported?.[name], c?.unit)}</div>
                  <Stamp meta={doc.metadata?.reported?.[name]} now={now} />
                </td>
                <td data-label="Desired" class="value-cell" data-testid={`desired-${name}`}>
                  <div class="value">{hasDesired ? formatValue(doc.desired[name], c?.unit) : <span class="muted">—</span>}</div>
                  <Stamp meta={doc.metadata?.desired?.[name]} now={now} />
                </td>
                <td data-label="Sync">
                  {pending ? <Badge tone="violet" title="desired value not yet reported by the device">pending</Badge> : hasDesired ? <Badge tone="green">in sync</Badge> : <span class="muted">—</span>}
                </td>
              </tr>
            );
          })}
          {telemetry.length > 0 && (
            <tr class="group">
              <th colSpan={4}>Telemetry (latest)</th>
            </tr>
          )}
          {telemetry.map((name) => {
            const t = model?.telemetry.find((x) => x.name === name);
            return (
              <tr key={`t-${name}`}>
                <td data-label="Telemetry">
                  <div class="prop-name">{t?.display_name || name}</div>
                  <div class="muted small">{schemaText(t?.schema ?? typeof doc.telemetry[name])}{t?.unit ? ` · ${unitSymbol(t.unit)}` : ""}</div>
                </td>
                <td data-label="Latest" class="value-cell" colSpan={3}>
                  <div class="value" data-testid={`telemetry-${name}`}>{formatValue(doc.telemetry[name], t?.unit)}</div>
                  <Stamp meta={doc.metadata?.telemetry?.[name]} now={now} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function DesiredEditor(props: { doc: TwinDoc; model?: ResolvedModel; onSaved: (doc: TwinDoc | null) => void }) {
  const writable = (props.model?.properties ?? []).filter((p) => p.writable);
  const [raw, setRaw] = useState<Record<string, any>>({});
  const [problems, setProblems] = useState<Problem[]>([]);
  const [message, setMessage] = useState<{ tone: string; text: string } | null>(null);
  const [json, setJson] = useState("{\n  \n}");
  const [busy, setBusy] = useState(false);

  async function send(patch: Record<string, any>) {
    setBusy(true);
    setMessage(null);
    try {
      const result = await request<any>("PATCH", `/api/v1/twins/${enc(props.doc.id)}/desired`, patch);
      props.onSaved(result && typeof result === "object" && "desired" in result ? result : null);
      setMessage({ tone: "ok", text: `Sent ${Object.keys(patch).join(", ")}; the device acknowledges by reporting it.` });
    } catch (e) {
      const where = e instanceof ApiError && e.path ? ` (at ${e.path})` : "";
      setMessage({ tone: "bad", text: (e instanceof Error ? e.message : String(e)) + where });
      if (e instanceof ApiError && e.path) setProblems([{ path: e.path, message: e.message }]);
    } finally {
      setBusy(false);
    }
  }

  if (!props.model?.id || writable.length === 0) {
    return (
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          try {
            const patch = JSON.parse(json);
            void send(patch);
          } catch (err) {
            setMessage({ tone: "bad", text: `Not valid JSON: ${(err as Error).message}` });
          }
        }}
      >
        <p class="muted small">
          {props.model?.id ? "The model declares no writable property; " : "This twin has no model; "}
          send a JSON merge patch of desired values.
        </p>
        <textarea class="input mono" rows={4} value={json} aria-label="Desired merge patch" onInput={(e) => setJson((e.target as HTMLTextAreaElement).value)} />
        <button class="btn primary" disabled={busy}>Send desired patch</button>
        {message && <div class={`note ${message.tone}`}>{message.text}</div>}
      </form>
    );
  }

  return (
    <div class="stack" data-testid="desired-editor">
      {writable.map((p) => {
        const value = raw[p.name] ?? toRaw(p.schema as any, props.doc.desired?.[p.name] ?? props.doc.reported?.[p.name]);
        return (
          <form
            key={p.name}
            class="desired-row"
            data-desired={p.name}
            onSubmit={(e) => {
              e.preventDefault();
              const found: Problem[] = [];
              const typed = coerce(p.schema as any, value, `/${p.name}`, found);
              setProblems(found);
              if (found.length === 0) void send({ [p.name]: typed });
            }}
          >
            <label class="field-label" for={`desired-${p.name}`}>
              {p.display_name || p.name}
              {p.unit && <span class="muted small"> ({unitSymbol(p.unit)})</span>}
            </label>
            <SchemaInput id={`desired-${p.name}`} schema={p.schema as any} value={value} path={`/${p.name}`} problems={problems} onChange={(v) => setRaw({ ...raw, [p.name]: v })} />
            <button class="btn primary small" disabled={busy} type="submit">Set</button>
          </form>
        );
      })}
      {message && <div class={`note ${message.tone}`} role="status">{message.text}</div>}
    </div>
  );
}

type CommandResult = { status: number; text: string; payload?: unknown };

export function CommandPanel(props: { twin: string; model?: ResolvedModel }) {
  const commands = props.model?.commands ?? [];
  if (!props.model) return <Spinner />;
  if (commands.length === 0) return <Empty title="No commands" icon="⌘">This twin's model declares no command.</Empty>;
  return (
    <div class="stack">
      {commands.map((c) => (
        <CommandForm key={c.name} twin={props.twin} command={c} />
      ))}
    </div>
  );
}

function CommandForm(props: { twin: string; command: Content }) {
  const c = props.command;
  const schema = c.request?.schema;
  const [raw, setRaw] = useState<any>(toRaw(schema, undefined));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [result, setResult] = useState<CommandResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [timeout, setTimeoutS] = useState("10");

  async function submit(e: Event) {
    e.preventDefault();
    const found: Problem[] = [];
    const payload = schema ? coerce(schema, raw, "/payload", found) : null;
    const seconds = Number(timeout);
    if (!(seconds > 0)) found.push({ path: "/timeout", message: "must be a positive number of seconds" });
    setProblems(found);
    if (found.length) return;
    setBusy(true);
    setResult(null);
    try {
      const response = await fetch(`/api/v1/twins/${enc(props.twin)}/commands/${enc(c.name)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ payload, timeout: seconds }),
      });
      const text = await response.text();
      let data: any = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = text;
      }
      if (response.status === 200) setResult({ status: 200, text: "Answered", payload: data?.payload ?? data });
      else if (response.status === 202) setResult({ status: 202, text: "The device is offline: the command is queued and will be delivered when it reconnects.", payload: data });
      else if (response.status === 504) setResult({ status: 504, text: `No answer within ${seconds} s. Is the device connected?` });
      else setResult({ status: response.status, text: data?.error?.message ?? `HTTP ${response.status}` });
    } catch {
      setResult({ status: 0, text: "The server cannot be reached." });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="command" data-command={c.name} onSubmit={submit}>
      <div class="command-head">
        <strong>{c.display_name || c.name}</strong>
        {c.description && <span class="muted small"> — {c.description}</span>}
      </div>
      {schema ? (
        <label class="field">
          <span class="field-label">
            {c.request!.name} <span class="muted small">{schemaText(schema)}</span>
          </span>
          <SchemaInput schema={schema} value={raw} path="/payload" problems={problems} onChange={setRaw} id={`cmd-${c.name}`} />
        </label>
      ) : (
        <div class="muted small">No payload.</div>
      )}
      <div class="row gap">
        <label class="row gap small">
          timeout
          <input class="input tiny-input" value={timeout} onInput={(e) => setTimeoutS((e.target as HTMLInputElement).value)} aria-label="timeout in seconds" /> s
        </label>
        <button class="btn primary small" disabled={busy}>{busy ? "Waiting for the device…" : `Send ${c.name}`}</button>
      </div>
      {problems.find((p) => p.path === "/timeout") && <div class="field-error">{problems.find((p) => p.path === "/timeout")!.message}</div>}
      {result && (
        <div class={`note ${result.status === 200 ? "ok" : result.status === 202 ? "warn" : "bad"}`} data-testid={`command-result-${c.name}`} role="status">
          <div>
            <Badge tone={result.status === 200 ? "green" : result.status === 202 ? "amber" : "red"}>{result.status || "error"}</Badge> {result.text}
          </div>
          {result.payload !== undefined && result.payload !== null && <pre class="mono small">{JSON.stringify(result.payload, null, 2)}</pre>}
        </div>
      )}
    </form>
  );
}

export function Relationships(props: { twin: string }) {
  const out = useLoad<Relationship[]>(() => get(`/api/v1/twins/${enc(props.twin)}/relationships`).then(items<Relationship>), [props.twin]);
  const inc = useLoad<Relationship[]>(() => get(`/api/v1/twins/${enc(props.twin)}/incoming`).then(items<Relationship>), [props.twin]);
  useFeed((e) => {
    if (e.kind.startsWith("Relationship") && (e.twin === props.twin || e.data?.relationship?.target === props.twin)) {
      out.reload();
      inc.reload();
    }
  }, [props.twin]);
  if (out.error) return <ErrorBox error={out.error} retry={out.reload} />;
  if (!out.data || !inc.data) return <Spinner />;
  if (out.data.length === 0 && inc.data.length === 0) {
    return <Empty title="No relationships" icon="⇄">Add one with <code>PUT /api/v1/twins/{props.twin}/relationships/&lt;id&gt;</code>.</Empty>;
  }
  return (
    <ul class="rel-list" data-testid="relationships">
      {out.data.map((r) => (
        <li key={`o-${r.id}`}>
          <span class="rel-dir">→</span>
          <span class="rel-name">{r.name}</span>
          <Link href={twinHref(r.target)}>{r.target}</Link>
          {r.properties && Object.keys(r.properties).length > 0 && <span class="muted small">{JSON.stringify(r.properties)}</span>}
        </li>
      ))}
      {inc.data.map((r) => (
        <li key={`i-${r.source}-${r.id}`}>
          <span class="rel-dir">←</span>
          <Link href={twinHref(r.source)}>{r.source}</Link>
          <span class="rel-name">{r.name}</span>
          <span class="muted small">this twin</span>
        </li>
      ))}
    </ul>
  );
}

export function describeEvent(e: FeedEvent): string {
  const d = e.data ?? {};
  const pairs = (o: Record<string, unknown>) => Object.entries(o ?? {}).slice(0, 6).map(([k, v]) => `${k} = ${formatValue(v)}`).join(", ");
  switch (e.kind) {
    case "TelemetryReceived":
      return pairs(d.values);
    case "ReportedChanged":
    case "DesiredChanged":
      return [pairs(d.set), (d.removed ?? []).length ? `removed ${d.removed.join(", ")}` : ""].filter(Boolean).join("; ");
    case "TwinCreated":
    case "TwinReplaced":
      return `model ${d.model ?? "none"}`;
    case "RelationshipAdded":
    case "RelationshipReplaced":
      return d.relationship ? `${d.relationship.name} → ${d.relationship.target}` : "";
    case "RelationshipRemoved":
      return d.id ?? "";
    case "CommandSent":
    case "CommandAnswered":
      return [d.name ?? d.command, d.status !== undefined ? `status ${d.status}` : "", d.payload !== undefined ? formatValue(d.payload) : ""].filter(Boolean).join(" · ");
    case "AlertRaised":
      return [d.alert?.severity, d.alert?.message ?? d.alert?.rule ?? d.alert?.id].filter(Boolean).join(" · ");
    case "AlertAcknowledged":
    case "AlertCleared":
      return d.id ?? "";
    case "AnalyticsUpdated":
      return pairs(d.values);
    default:
      return d.message ?? formatValue(d);
  }
}

export function Journal(props: { twin: string; revision: number }) {
  const start = Math.max(0, props.revision - 50);
  const history = useLoad<FeedEvent[]>(
    () => get(`/api/v1/twins/${enc(props.twin)}/events?after_revision=${start}`).then(items<FeedEvent>),
    [props.twin],
  );
  const [live, setLive] = useState<FeedEvent[]>([]);
  useFeed((e) => {
    if (e.twin === props.twin) setLive((l) => [e, ...l].slice(0, 200));
  }, [props.twin]);
  if (history.error) return <ErrorBox error={history.error} retry={history.reload} />;
  if (!history.data) return <Spinner />;
  const seen = new Set<number>();
  const all = [...live, ...[...history.data].reverse()].filter((e) => (seen.has(e.revision) ? false : (seen.add(e.revision), true)));
  if (all.length === 0) return <Empty title="The journal is empty" icon="☰" />;
  return (
    <ol class="timeline" data-testid="journal">
      {all.slice(0, 100).map((e) => (
        <li key={e.revision}>
          <span class="tl-dot" />
          <div class="tl-head">
            <Badge tone={KIND_TONE[e.kind] ?? ""}>{e.kind}</Badge>
            <span class="muted small">r{e.revision} · {formatTime(e.at)}{e.context?.actor ? ` · ${e.context.actor}` : ""}</span>
          </div>
          <div class="tl-body">{describeEvent(e)}</div>
        </li>
      ))}
    </ol>
  );
}

export function TwinAlerts(props: { doc: TwinDoc }) {
  const open = Object.values(props.doc.alerts ?? {});
  const analytics = Object.entries(props.doc.analytics ?? {}).filter(([, v]) => v !== null && typeof v !== "object");
  if (open.length === 0 && analytics.length === 0) return null;
  return (
    <>
      {open.length > 0 && (
        <div class="alert-strip" role="alert" data-testid="twin-alerts">
          {open.map((a) => (
            <div key={a.id} class={`alert-item sev-${a.severity ?? "warning"}`}>
              <Badge tone={a.severity === "critical" ? "red" : "orange"}>{a.severity ?? "warning"}</Badge>
              <strong>{a.message ?? a.rule ?? a.detector ?? a.id}</strong>
              <span class="muted small">{a.state} · since {formatTime(a.raised_at)}</span>
              <AlertActions twin={props.doc.id} id={a.id} state={a.state} />
            </div>
          ))}
        </div>
      )}
      {analytics.length > 0 && (
        <div class="chips" data-testid="twin-analytics">
          {analytics.map(([k, v]) => (
            <span class="chip score" key={k}>
              <span class="chip-name">{k}</span>
              <span class="chip-value">{formatValue(v)}</span>
            </span>
          ))}
        </div>
      )}
    </>
  );
}
