import { useRef, useState } from "preact/hooks";
import { ApiError, enc, get, qs, request } from "../api";
import { Badge, Empty, ErrorBox, Spinner, useFeed, useFeedScope, useLoad, useTick } from "../components/common";
import { ago, formatTime, formatValue, modelName } from "../format";
import { Link, setQuery, twinHref, useLocation } from "../router";

type Alert = { twin: string; key: string; model: string | null; state: string; severity: string; message: string; raised_at: string; updated_at: string; data: Record<string, any> };

const STATES = [
  ["open", "Open"],
  ["raised", "Raised"],
  ["acknowledged", "Acknowledged"],
  ["cleared", "Cleared"],
  ["", "All"],
];

export function AlertsPage() {
  const { query } = useLocation();
  const state = query.get("state") ?? "open";
  const twin = query.get("twin") ?? "";
  const severity = query.get("severity") ?? "";
  const alerts = useLoad<{ items: Alert[] }>(() => get(`/api/v1/dashboard/alerts${qs({ state, twin })}`), [state, twin]);
  const now = useTick(5000);
  const timer = useRef(0);
  useFeedScope({ kinds: ["AlertRaised", "AlertAcknowledged", "AlertCleared"] }, "alerts");
  useFeed((e) => {
    if (!e.kind.startsWith("Alert")) return;
    clearTimeout(timer.current);
    timer.current = window.setTimeout(alerts.reload, 100);
  }, [state, twin]);

  const list = (alerts.data?.items ?? []).filter((a) => !severity || a.severity === severity);
  const severities = Array.from(new Set((alerts.data?.items ?? []).map((a) => a.severity)));
  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1>Alerts</h1>
          <p class="muted">Raised by rules and anomaly detectors; updates live</p>
        </div>
      </header>
      <div class="toolbar">
        <div class="segmented" role="tablist">
          {STATES.map(([value, label]) => (
            <button key={value} role="tab" aria-selected={state === value} class={state === value ? "active" : ""} onClick={() => setQuery({ state: value || "all" })}>
              {label}
            </button>
          ))}
        </div>
        <input class="input" placeholder="Twin id" aria-label="Filter by twin" value={twin} onChange={(e) => setQuery({ twin: (e.target as HTMLInputElement).value })} />
        <select class="input" aria-label="Severity" value={severity} onChange={(e) => setQuery({ severity: (e.target as HTMLSelectElement).value })}>
          <option value="">Any severity</option>
          {severities.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      {alerts.error ? (
        <ErrorBox error={alerts.error} retry={alerts.reload} />
      ) : !alerts.data ? (
        <Spinner label="Loading alerts…" />
      ) : list.length === 0 ? (
        <Empty title={state === "open" ? "No open alerts" : "No alerts match"} icon="✓">
          {state === "open" ? "All quiet. Alerts appear here the moment a rule or a detector raises one." : "Try another state or clear the filters."}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="alerts-table">
            <thead>
              <tr>
                <th>Severity</th>
                <th>Alert</th>
                <th>Twin</th>
                <th>State</th>
                <th>Raised</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <tr key={a.twin + a.key}>
                  <td data-label="Severity"><Badge tone={a.severity === "critical" ? "red" : a.severity === "info" ? "blue" : "orange"}>{a.severity}</Badge></td>
                  <td data-label="Alert">
                    <div class="prop-name">{a.message}</div>
                    <div class="muted small">{a.key}{a.data?.value !== undefined ? ` · value ${formatValue(a.data.value)}` : ""}{a.data?.score !== undefined ? ` · score ${formatValue(a.data.score)}` : ""}</div>
                  </td>
                  <td data-label="Twin"><Link href={twinHref(a.twin)}>{a.twin}</Link><div class="muted small">{modelName(a.model)}</div></td>
                  <td data-label="State"><Badge tone={a.state === "cleared" ? "gray" : a.state === "acknowledged" ? "amber" : "red"}>{a.state}</Badge></td>
                  <td data-label="Raised" title={formatTime(a.raised_at)}>{ago(a.raised_at, now)}</td>
                  <td>{a.state !== "cleared" && <AlertActions twin={a.twin} id={a.key} state={a.state} onDone={alerts.reload} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Acknowledge or clear an alert through the rules API. */
export function AlertActions(props: { twin: string; id: string; state: string; onDone?: () => void }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  async function act(verb: "acknowledge" | "clear") {
    setBusy(true);
    setProblem(null);
    try {
      await request("POST", `/api/v1/twins/${enc(props.twin)}/alerts/${enc(props.id)}/${verb}`, {});
      props.onDone?.();
    } catch (e) {
      setProblem(e instanceof ApiError && e.status === 404 ? "This server has no rules engine to change alerts." : e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span class="row gap">
      {props.state === "raised" && <button class="btn tiny" disabled={busy} onClick={() => act("acknowledge")}>Acknowledge</button>}
      <button class="btn tiny" disabled={busy} onClick={() => act("clear")}>Clear</button>
      {problem && <span class="field-error">{problem}</span>}
    </span>
  );
}
