import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { requestScope, subscribe, type FeedScope } from "../feed";
import type { FeedEvent } from "../api";

export function Empty(props: { title: string; children?: ComponentChildren; icon?: string }) {
  return (
    <div class="empty" role="status">
      <div class="empty-icon" aria-hidden="true">{props.icon ?? "◌"}</div>
      <div class="empty-title">{props.title}</div>
      {props.children && <div class="empty-body">{props.children}</div>}
    </div>
  );
}

export function ErrorBox(props: { error: unknown; retry?: () => void }) {
  const e = props.error;
  const message = e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
  const where = e instanceof ApiError && e.path ? ` (at ${e.path})` : "";
  const hint =
    e instanceof ApiError && e.status === 401
      ? "Sign in with an access token."
      : e instanceof ApiError && e.status === 403
        ? "Your access does not cover this; ask an administrator for a wider policy."
        : e instanceof ApiError && e.status === 404
      ? "Check the id, or go back to the fleet."
      : e instanceof ApiError && e.status === 0
        ? "Start the server with `twinkit serve`, then retry."
        : "Retry; if it keeps failing, check the server log.";
  return (
    <div class="error-box" role="alert">
      <strong>{message}</strong>
      {where}
      <div class="muted">{hint}</div>
      {props.retry && (
        <button class="btn small" onClick={props.retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <div class="spinner" role="progressbar" aria-label={props.label ?? "loading"}>
      <span />
      {props.label ?? "Loading…"}
    </div>
  );
}

export function StatusDot(props: { online: boolean; label?: string }) {
  return (
    <span class={`status ${props.online ? "online" : "offline"}`}>
      <span class="dot" />
      {props.label ?? (props.online ? "online" : "offline")}
    </span>
  );
}

export function Card(props: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }) {
  return (
    <section class={`card ${props.class ?? ""}`} id={props.id}>
      {(props.title || props.actions) && (
        <header class="card-head">
          <h2>{props.title}</h2>
          <div class="card-actions">{props.actions}</div>
        </header>
      )}
      <div class="card-body">{props.children}</div>
    </section>
  );
}

/** Re-render every `ms` (for "5 s ago" labels). */
export function useTick(ms = 1000): number {
  const [t, setT] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => setT(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms]);
  return t;
}

/** Subscribe to the change feed for the lifetime of a component. */
export function useFeed(listener: (event: FeedEvent) => void, deps: unknown[] = []) {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => subscribe((e) => ref.current(e)), deps);
}

/** Tell the feed what this component needs (see `requestScope`); `key` says when it changed. */
export function useFeedScope(scope: FeedScope | null, key: string) {
  useEffect(() => (scope ? requestScope(scope) : undefined), [key]);
}

/** Load data with loading/error states; `reload` re-runs it. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | undefined; error: unknown; loading: boolean; reload: () => void; set: (t: T) => void;
  update: (fn: (t: T) => T) => void;
} {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => alive && setState({ data, loading: false }),
      (error) => alive && setState({ error, loading: false }),
    );
    return () => {
      alive = false;
    };
  }, [...deps, nonce]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: () => setNonce((n) => n + 1),
    set: (data: T) => setState({ data, loading: false }),
    // apply a change to whatever data is current (live events may arrive after a newer load)
    update: (fn: (t: T) => T) => setState((s) => (s.data === undefined ? s : { ...s, data: fn(s.data) })),
  };
}

export function Badge(props: { tone?: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge ${props.tone ?? ""}`} title={props.title}>
      {props.children}
    </span>
  );
}

export const KIND_TONE: Record<string, string> = {
  TelemetryReceived: "blue",
  ReportedChanged: "green",
  DesiredChanged: "violet",
  CommandSent: "amber",
  CommandAnswered: "amber",
  AlertRaised: "red",
  AlertAcknowledged: "orange",
  AlertCleared: "gray",
  TwinCreated: "teal",
  TwinReplaced: "teal",
  TwinDeleted: "gray",
  RelationshipAdded: "teal",
  RelationshipReplaced: "teal",
  RelationshipRemoved: "gray",
  AnalyticsUpdated: "violet",
};
