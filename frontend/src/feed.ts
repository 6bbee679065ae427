// One shared connection to the change feed (GET /api/v1/events, Server-Sent Events).
// Read with fetch streaming rather than EventSource so named and unnamed events are both
// seen, and resumed after a drop with Last-Event-ID (no gaps, no duplicates).

import { accessToken, signalUnauthorized, type FeedEvent } from "./api";

type Listener = (event: FeedEvent) => void;
type StatusListener = (status: FeedStatus) => void;
export type FeedStatus = "connecting" | "live" | "reconnecting";

const listeners = new Set<Listener>();

// What the pages on screen want from the feed. A fleet of 100k twins can produce far more
// events than a browser should parse, so the connection asks the server for just those twins
// (or kinds), and is reopened when the pages change what they show.
export type FeedScope = { twins: string[] } | { kinds: string[] } | "all";
const scopes = new Map<symbol, FeedScope>();
let filter = "";
let abort: AbortController | null = null;
let rescope = 0;

/** Ask the server for what `scope` needs while the caller is on screen; returns the release. */
export function requestScope(scope: FeedScope): () => void {
  const token = Symbol("scope");
  scopes.set(token, scope);
  scheduleRescope();
  return () => {
    scopes.delete(token);
    scheduleRescope();
  };
}

function combined(): string {
  const all = [...scopes.values()];
  if (all.length === 0) return "kind=TwinCreated,TwinDeleted";
  if (all.some((s) => s === "all")) return "";
  const twins = all.flatMap((s) => (typeof s === "object" && "twins" in s ? s.twins : []));
  const kinds = all.flatMap((s) => (typeof s === "object" && "kinds" in s ? s.kinds : []));
  if (twins.length && kinds.length) return "";
  if (twins.length) return "twin=" + [...new Set(twins)].sort().map(encodeURIComponent).join(",");
  return "kind=" + [...new Set(kinds)].sort().join(",");
}

function scheduleRescope() {
  clearTimeout(rescope);
  rescope = window.setTimeout(() => {
    const next = combined();
    if (next === filter) return;
    filter = next;
    lastId = ""; // a new filter starts from now: resuming would replay another filter's past
    abort?.abort();
  }, 30);
}
const statusListeners = new Set<StatusListener>();
let status: FeedStatus = "connecting";
let lastId = "";
let started = false;

let connectedFilter: string | null = null;

/** The filter of the open connection ("" = every event), null while not connected. */
export function feedFilter(): string | null {
  return connectedFilter;
}

function setStatus(next: FeedStatus, force = false) {
  if (next === status && !force) return;
  status = next;
  statusListeners.forEach((l) => l(status));
}

export function feedStatus(): FeedStatus {
  return status;
}

export function onFeedStatus(listener: StatusListener): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Subscribe to every event; returns the function that unsubscribes. */
export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (!started) {
    started = true;
    filter = combined();
    void run();
  }
  return () => listeners.delete(listener);
}

function dispatch(id: string, name: string, data: string) {
  if (!data) return;
  let event: any;
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  if (!event || typeof event !== "object" || !event.twin) return;
  if (!event.kind && name && name !== "message") event.kind = name;
  if (id) {
    lastId = id;
    if (!event.seq) event.seq = Number(id) || 0;
  }
  listeners.forEach((l) => {
    try {
      l(event as FeedEvent);
    } catch (error) {
      console.error(error);
    }
  });
}

async function run() {
  let delay = 500;
  for (;;) {
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      abort = new AbortController();
      const token = accessToken();
      const params = [filter, token ? "access_token=" + encodeURIComponent(token) : ""].filter(Boolean);
      const url = "/api/v1/events" + (params.length ? "?" + params.join("&") : "");
      const response = await fetch(url, { headers, cache: "no-store", signal: abort.signal });
      if (response.status === 401) signalUnauthorized();
      if (!response.ok || !response.body) throw new Error(`feed: HTTP ${response.status}`);
      connectedFilter = filter;
      setStatus("live", true);
      delay = 500;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let id = "";
      let name = "";
      let data: string[] = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          let line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.endsWith("\r")) line = line.slice(0, -1);
          if (line === "") {
            dispatch(id, name, data.join("\n"));
            name = "";
            data = [];
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "data") data.push(text);
          else if (field === "id") id = text;
          else if (field === "event") name = text;
        }
      }
    } catch (error) {
      if (abort?.signal.aborted) continue; // the pages asked for another filter: reopen now
      console.warn("change feed dropped", error);
    }
    connectedFilter = null;
    if (abort?.signal.aborted) continue;
    setStatus("reconnecting");
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}
