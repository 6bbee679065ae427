// A tiny history-API router: paths are real URLs (the server falls back to index.html).
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

type Location = { path: string; query: URLSearchParams };

const listeners = new Set<() => void>();

function current(): Location {
  return { path: decodeURI(location.pathname), query: new URLSearchParams(location.search) };
}

export function navigate(href: string, replace = false) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  listeners.forEach((l) => l());
  if (!replace) window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return loc;
}

/** Update the query string without adding a history entry (filters, search boxes). */
export function setQuery(params: Record<string, string | null | undefined>) {
  const query = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") query.delete(k);
    else query.set(k, v);
  }
  const text = query.toString();
  navigate(location.pathname + (text ? "?" + text : ""), true);
}

export function Link(props: { href: string; class?: string; children: ComponentChildren; title?: string }) {
  const { href, children, ...rest } = props;
  return (
    <a
      {...rest}
      href={href}
      onClick={(e: MouseEvent) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export const twinHref = (id: string) => `/twins/${encodeURIComponent(id)}`;
