import { render } from "preact";

performance.mark("app-start");
import { useEffect, useState } from "preact/hooks";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { feedFilter, feedStatus, onFeedStatus, subscribe, type FeedStatus } from "./feed";
import { Link, useLocation } from "./router";
import { FleetPage } from "./pages/Fleet";
import { TwinPage } from "./pages/Twin";
import { ModelsPage } from "./pages/Models";
import { AlertsPage } from "./pages/Alerts";
import { EventsPage } from "./pages/Events";
import { Empty, Spinner } from "./components/common";
import { accessToken, setAccessToken } from "./api";

// the graph page (dagre) loads on first use; the twin page is the one people land on from
// links, so it ships in the main bundle (one round trip less before its charts)
const GraphPage = lazyPage(() => import("./pages/Graph").then((m) => m.GraphPage));

type PageComponent = (props: any) => any;

function lazyPage(load: () => Promise<PageComponent>): PageComponent {
  let loaded: PageComponent | null = null;
  let pending: Promise<unknown> | null = null;
  return function Lazy(props: any) {
    const [, setReady] = useState(0);
    if (loaded) {
      const Page = loaded;
      return <Page {...props} />;
    }
    pending ??= load().then((c) => {
      loaded = c;
    });
    pending.then(() => setReady((n) => n + 1));
    return <Spinner />;
  };
}

const NAV = [
  { href: "/", label: "Fleet", icon: "▦" },
  { href: "/graph", label: "Graph", icon: "⬡" },
  { href: "/models", label: "Models", icon: "◧" },
  { href: "/alerts", label: "Alerts", icon: "⚠" },
  { href: "/events", label: "Events", icon: "≋" },
];

function LiveIndicator() {
  const [status, setStatus] = useState<FeedStatus>(feedStatus());
  const [filter, setFilter] = useState<string | null>(feedFilter());
  useEffect(() => {
    const off = onFeedStatus((s) => {
      setStatus(s);
      setFilter(feedFilter());
    });
    const unsub = subscribe(() => {});
    return () => {
      off();
      unsub();
    };
  }, []);
  const label = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span class={`live ${status}`} data-testid="live-status" data-filter={filter ?? ""} title={`Change feed (Server-Sent Events)${filter ? ": " + decodeURIComponent(filter) : ""}`}>
      <span class="dot" />
      {label}
    </span>
  );
}

function SignIn() {
  const [open, setOpen] = useState(false);
  const [token, setToken] = useState("");
  useEffect(() => {
    const show = () => setOpen(true);
    window.addEventListener("twinkit:unauthorized", show);
    return () => window.removeEventListener("twinkit:unauthorized", show);
  }, []);
  if (!open) return null;
  const had = !!accessToken();
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="signin-title">
      <form
        class="card signin"
        onSubmit={(e) => {
          e.preventDefault();
          setAccessToken(token.trim() || null);
          location.reload();
        }}
      >
        <h2 id="signin-title">{had ? "Your access token was refused" : "This server asks who you are"}</h2>
        <p class="muted small">
          Paste an API token or a JWT. An administrator creates one with <code>twinkit auth token create user:NAME</code>. It is kept in this
          browser only.
        </p>
        <input class="input" type="password" autocomplete="off" aria-label="Access token" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <div class="row gap">
          <button class="btn primary" disabled={!token.trim()}>Sign in</button>
          {had && (
            <button type="button" class="btn" onClick={() => { setAccessToken(null); location.reload(); }}>
              Forget the old token
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

function section(path: string): string {
  if (path.startsWith("/twins/")) return "/";
  const top = "/" + (path.split("/")[1] ?? "");
  return NAV.some((n) => n.href === top) ? top : "/";
}

function Page() {
  const { path } = useLocation();
  if (path === "/" || path === "/fleet") return <FleetPage />;
  if (path.startsWith("/twins/")) {
    const id = decodeURIComponent(path.slice(7));
    return <TwinPage key={id} id={id} />;
  }
  if (path === "/graph") return <GraphPage />;
  if (path === "/models") return <ModelsPage />;
  if (path === "/alerts") return <AlertsPage />;
  if (path === "/events") return <EventsPage />;
  return (
    <Empty title="There is no page here" icon="?">
      <Link href="/">Go to the fleet</Link>
    </Empty>
  );
}

function App() {
  const { path } = useLocation();
  const active = section(path);
  return (
    <div class="shell">
      <aside class="sidebar">
        <Link href="/" class="brand">
          <span class="logo" aria-hidden="true">
            <i />
            <i />
          </span>
          twinkit
        </Link>
        <nav>
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} class={active === n.href ? "active" : ""}>
              <span class="nav-icon" aria-hidden="true">{n.icon}</span>
              <span>{n.label}</span>
            </Link>
          ))}
        </nav>
        <div class="sidebar-foot">
          <LiveIndicator />
          <a href="/openapi.json" class="muted small" target="_blank" rel="noreferrer">OpenAPI</a>
          {accessToken() && (
            <a href="/" class="muted small" onClick={(e) => { e.preventDefault(); setAccessToken(null); location.reload(); }}>
              Sign out
            </a>
          )}
        </div>
      </aside>
      <main class="content">
        <Page />
      </main>
      <SignIn />
    </div>
  );
}

render(<App />, document.getElementById("app")!);
performance.mark("app-rendered");
