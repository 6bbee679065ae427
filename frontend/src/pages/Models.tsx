import { useRef, useState } from "preact/hooks";
import { ApiError, get, request, type Content } from "../api";
import { Badge, Card, Empty, ErrorBox, Spinner, useLoad } from "../components/common";
import { modelColor, modelName, schemaText, unitSymbol } from "../format";
import { locate, syntaxLocation, type Location } from "../pointer";
import { Link } from "../router";

type ModelCard = { id: string; display_name?: string | null; description?: string | null; extends: string[]; contents: Content[]; twins: number | null };

const KIND_ICON: Record<string, string> = { Property: "P", Telemetry: "T", Command: "C", Relationship: "R", Component: "⊞" };

export function ModelsPage() {
  const models = useLoad<{ items: ModelCard[] }>(() => get("/api/v1/dashboard/models"), []);
  const [uploading, setUploading] = useState(false);
  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1>Models</h1>
          <p class="muted">DTDL interfaces: what each kind of twin reports, accepts and is related to</p>
        </div>
        <button class="btn primary" onClick={() => setUploading(!uploading)}>{uploading ? "Close upload" : "Upload models"}</button>
      </header>
      {uploading && <Upload onDone={() => models.reload()} />}
      {models.error ? (
        <ErrorBox error={models.error} retry={models.reload} />
      ) : !models.data ? (
        <Spinner label="Loading models…" />
      ) : models.data.items.length === 0 ? (
        <Empty title="No models yet" icon="◧">
          Upload a DTDL interface above, or run <code>twinkit models import PATH</code>.
        </Empty>
      ) : (
        <div class="model-grid">
          {models.data.items.map((m) => (
            <ModelView key={m.id} model={m} />
          ))}
        </div>
      )}
    </div>
  );
}

function ModelView(props: { model: ModelCard }) {
  const m = props.model;
  const order = ["Property", "Telemetry", "Command", "Relationship", "Component"];
  const contents = [...m.contents].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  return (
    <Card
      id={encodeURIComponent(m.id)}
      class="model-card"
      title={
        <span class="model-title">
          <span class="swatch" style={{ background: modelColor(m.id) }} />
          {m.display_name || modelName(m.id)}
        </span>
      }
      actions={
        m.twins ? <Link href={`/?model=${encodeURIComponent(m.id)}`} class="small">{m.twins.toLocaleString("en-US")} twin{m.twins === 1 ? "" : "s"} →</Link> : <span class="muted small">no twins</span>
      }
    >
      <div class="mono small muted">{m.id}</div>
      {m.description && <p>{m.description}</p>}
      {m.extends.length > 0 && (
        <div class="small">
          extends{" "}
          {m.extends.map((e) => (
            <a key={e} href={`#${encodeURIComponent(e)}`} class="mono">{e}</a>
          ))}
        </div>
      )}
      {contents.length === 0 ? (
        <p class="muted small">No contents of its own.</p>
      ) : (
        <table class="table compact contents">
          <tbody>
            {contents.map((c) => (
              <tr key={c.kind + c.name}>
                <td class="kind-cell"><span class={`kind kind-${c.kind}`} title={c.kind}>{KIND_ICON[c.kind] ?? "?"}</span></td>
                <td>
                  <div class="prop-name">{c.display_name || c.name}</div>
                  {c.description && <div class="muted small">{c.description}</div>}
                </td>
                <td class="mono small">{describe(c)}</td>
                <td class="small">
                  {c.unit && <Badge>{unitSymbol(c.unit)}</Badge>}
                  {c.writable && <Badge tone="violet">writable</Badge>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function describe(c: Content): string {
  if (c.kind === "Command") {
    const req = c.request ? `${c.request.name}: ${schemaText(c.request.schema)}` : "";
    const res = c.response ? ` → ${schemaText(c.response.schema)}` : "";
    return `(${req})${res}`;
  }
  if (c.kind === "Relationship") return `→ ${c.target ? modelName(c.target) : "any twin"}`;
  if (c.kind === "Component") return String(c.schema);
  return schemaText(c.schema);
}

const SAMPLE = `{
  "@context": "dtmi:dtdl:context;3",
  "@id": "dtmi:example:Thermostat;1",
  "@type": "Interface",
  "displayName": "Thermostat",
  "contents": [
    { "@type": ["Telemetry", "Temperature"], "name": "temperature", "schema": "double", "unit": "degreeCelsius" },
    { "@type": "Property", "name": "setpoint", "schema": "double", "writable": true }
  ]
}`;

function Upload(props: { onDone: () => void }) {
  const [text, setText] = useState("");
  type Problem = { message: string; path?: string; at?: Location | null };
  const [error, setError] = useState<(Problem & { all: Problem[] }) | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);

  async function submit() {
    setError(null);
    setOk(null);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      const message = (e as Error).message;
      const at = syntaxLocation(text, message);
      setError({ message: `Not valid JSON: ${message}`, at, all: [] });
      focus(at);
      return;
    }
    setBusy(true);
    try {
      const result = await request<any>("POST", "/api/v1/models", doc);
      const n = Array.isArray(result) ? result.length : Array.isArray(doc) ? doc.length : 1;
      setOk(`Uploaded ${n} model${n === 1 ? "" : "s"}.`);
      setText("");
      props.onDone();
    } catch (e) {
      const path = e instanceof ApiError ? e.path : "";
      const at = path ? locate(text, path) : null;
      const all = (e instanceof ApiError ? e.details : []).map((d) => ({
        message: d.validationID ? `${d.message} [${d.validationID}]` : d.message,
        path: d.path,
        at: d.path ? locate(text, d.path) : null,
      }));
      setError({ message: e instanceof Error ? e.message : String(e), path, at, all });
      focus(at);
    } finally {
      setBusy(false);
    }
  }

  function focus(at: Location | null | undefined) {
    const el = area.current;
    if (!el || !at) return;
    el.focus();
    const end = text.indexOf("\n", at.offset);
    el.setSelectionRange(at.offset, end < 0 ? text.length : end);
  }

  const lines = text.split("\n");
  return (
    <Card title="Upload DTDL" class="upload">
      <p class="muted small">Paste one interface or an array, or choose files. The server validates; errors point at the line.</p>
      <div class="row gap">
        <input
          type="file"
          accept=".json,application/json"
          multiple
          aria-label="DTDL files"
          onChange={async (e) => {
            const files = Array.from((e.target as HTMLInputElement).files ?? []);
            const docs = await Promise.all(files.map((f) => f.text()));
            if (docs.length === 1) setText(docs[0]);
            else setText("[\n" + docs.map((d) => d.trim()).join(",\n") + "\n]");
          }}
        />
        <button class="btn small" onClick={() => setText(SAMPLE)}>Insert an example</button>
      </div>
      <div class="editor">
        <div class="gutter mono" aria-hidden="true">
          {lines.map((_, n) => (
            <div key={n} class={error && [error, ...error.all].some((p) => p.at?.line === n + 1) ? "err-line" : ""}>{n + 1}</div>
          ))}
        </div>
        <textarea
          ref={area}
          class="input mono"
          rows={Math.min(24, Math.max(8, lines.length + 1))}
          spellcheck={false}
          aria-label="DTDL JSON"
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
      </div>
      {error && (
        <div class="note bad" role="alert" data-testid="upload-error">
          <strong>{error.message}</strong>
          {error.path ? <span class="mono small"> at {error.path}</span> : null}
          {error.at ? <span class="small"> (line {error.at.line}, column {error.at.column})</span> : null}
          {error.all.length > 1 && (
            <ul class="problems small">
              {error.all.map((p, i) => (
                <li key={i}>
                  {p.at ? <button class="linklike" onClick={() => focus(p.at)}>line {p.at.line}</button> : <span class="mono">{p.path || "/"}</span>}{" "}
                  {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {ok && <div class="note ok" role="status">{ok}</div>}
      <button class="btn primary" disabled={busy || !text.trim()} onClick={submit}>{busy ? "Validating…" : "Validate and upload"}</button>
    </Card>
  );
}
