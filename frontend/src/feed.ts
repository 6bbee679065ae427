// One shared connection to the change feed (GET /api/v1/events, Server-Sent Events).
// Read with fetch streaming rather than EventSource so named and unnamed events are both
// seen, and resumed after a drop with Last-Event-ID (no gaps, no duplicates).

import type { FeedEvent } from "./api";

type Listener = (event: FeedEvent) => void;
type StatusListener = (status: FeedStatus) => void;
export type FeedStatus = "connecting" | "live" | "reconnecting";

const listeners = new Set<Listener>();
const statusListeners = new Set<StatusListener>();
let status: FeedStatus = "connecting";
let lastId = "";
let started = false;

function setStatus(next: FeedStatus) {
  if (next === status) return;
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
      const response = await fetch("/api/v1/events", { headers, cache: "no-store" });
      if (!response.ok || !response.body) throw new Error(`feed: HTTP ${response.status}`);
      setStatus("live");
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
      console.warn("change feed dropped", error);
    }
    setStatus("reconnecting");
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}
