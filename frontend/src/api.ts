// Thin fetch wrappers: JSON in, JSON out, errors as ApiError with the API's JSON pointer.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public path: string = "",
    /** every problem when the server reports several (DTDL validation): message + pointer */
    public details: { message: string; path?: string; validationID?: string }[] = [],
  ) {
    super(message);
  }
}

// A server started with `--auth` wants a bearer token; the dashboard keeps the one the user
// pasted in this browser's local storage and sends it with every request.
const TOKEN_KEY = "twinkit.token";

export function accessToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setAccessToken(token: string | null) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Tell the app a request was refused for want of (valid) credentials. */
export function signalUnauthorized() {
  window.dispatchEvent(new Event("twinkit:unauthorized"));
}

export async function request<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const token = accessToken();
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const init: RequestInit = { method, headers: { Accept: "application/json", ...auth, ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  let response: Response;
  try {
    const early = method === "GET" ? takePrefetched(url) : undefined;
    response = await (early ?? fetch(url, init));
  } catch {
    throw new ApiError(0, "unreachable", "The server cannot be reached. Is `twinkit serve` running?");
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (response.status === 401) signalUnauthorized();
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error ?? data.detail : null;
    if (error && typeof error === "object" && !Array.isArray(error)) {
      const details = Array.isArray(error.errors) ? error.errors : [];
      throw new ApiError(response.status, error.code ?? "error", error.message ?? String(error), error.path ?? "", details);
    }
    if (Array.isArray(error) && error[0]?.msg) {
      throw new ApiError(response.status, "invalid", error[0].msg, "/" + (error[0].loc ?? []).slice(1).join("/"));
    }
    throw new ApiError(response.status, "http", typeof data === "string" && data ? data.slice(0, 200) : `HTTP ${response.status}`);
  }
  return data as T;
}

export const get = <T = any>(url: string) => request<T>("GET", url);

/** A request index.html started before the bundle loaded; each is used once. */
function takePrefetched(url: string): Promise<Response> | undefined {
  const store = (window as any).__prefetch as Record<string, Promise<Response>> | undefined;
  const early = store?.[url];
  if (early) delete store![url];
  return early;
}

/** Lists come back as arrays or wrapped in an object; accept both. */
export function items<T = any>(data: any): T[] {
  if (Array.isArray(data)) return data;
  if (data && typeof data === "object") {
    for (const key of ["items", "value", "twins", "events", "relationships", "models", "points"]) {
      if (Array.isArray(data[key])) return data[key];
    }
  }
  return [];
}

export const enc = encodeURIComponent;

export function qs(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? "?" + parts.join("&") : "";
}

export type TwinDoc = {
  id: string;
  model: string | null;
  revision: number;
  etag?: string;
  reported: Record<string, any>;
  desired: Record<string, any>;
  delta: Record<string, any>;
  telemetry: Record<string, any>;
  metadata: Record<string, Record<string, { changed_at?: string; updated_at?: string; at?: string | null }>>;
  created_at?: string;
  updated_at?: string;
  alerts?: Record<string, { id: string; state: string; severity?: string; message?: string; rule?: string; detector?: string; raised_at?: string; [k: string]: any }>;
  analytics?: Record<string, any>;
};

export type FeedEvent = {
  seq: number;
  twin: string;
  revision: number;
  kind: string;
  at: string;
  model: string | null;
  data: any;
  context?: { actor?: string; correlation_id?: string; cause?: string | null };
};

export type Schema = {
  type: string;
  fields?: { name: string; schema: Schema }[];
  element?: Schema;
  values?: { name: string; value: string | number }[];
  value_schema?: string;
  key?: string;
  value?: Schema;
};

export type Content = {
  kind: string;
  name: string;
  display_name?: string | null;
  description?: string | null;
  schema?: Schema | string;
  unit?: string | null;
  writable?: boolean;
  target?: string | null;
  request?: { name: string; schema: Schema; nullable: boolean } | null;
  response?: { name: string; schema: Schema; nullable: boolean } | null;
  properties?: Content[];
};

export type ResolvedModel = {
  id: string | null;
  ancestors: string[];
  properties: Content[];
  telemetry: Content[];
  commands: Content[];
  relationships: Content[];
  components: Content[];
};

export type Relationship = { id: string; source: string; name: string; target: string; properties?: Record<string, any> };
