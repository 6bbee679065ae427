import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import dagre from "@dagrejs/dagre";
import { enc, get, request } from "../api";
import { Empty, ErrorBox, Spinner, StatusDot, useFeed, useFeedScope, useLoad } from "../components/common";
import { modelColor, modelName } from "../format";
import { Link, navigate, setQuery, twinHref, useLocation } from "../router";

type GNode = { id: string; model: string | null; online: boolean; hop: number };
type GEdge = { id: string; source: string; target: string; name: string };
type Graph = { nodes: GNode[]; edges: GEdge[]; truncated: boolean; more_beyond_depth?: boolean };

const NODE_W = 168;
const NODE_H = 46;

async function loadGraph(twin: string, query: string, depth: number): Promise<Graph> {
  if (query) {
    const result = await request<any>("POST", "/api/v1/query", { query });
    const rows: any[] = Array.isArray(result) ? result : result.items ?? [];
    const ids = new Set<string>();
    for (const row of rows) collectIds(row, ids);
    return request<Graph>("POST", "/api/v1/dashboard/graph", { twins: [...ids], depth: 0 });
  }
  if (twin) return get<Graph>(`/api/v1/dashboard/graph?twin=${enc(twin)}&depth=${depth}`);
  return get<Graph>(`/api/v1/dashboard/graph?limit=120`);
}

function collectIds(row: any, ids: Set<string>) {
  if (!row || typeof row !== "object") return;
  const id = row.$dtId ?? (row.model !== undefined || row.$metadata ? row.id : undefined);
  if (typeof id === "string") ids.add(id);
  if (typeof row.$sourceId === "string") ids.add(row.$sourceId);
  if (typeof row.$targetId === "string") ids.add(row.$targetId);
  for (const v of Object.values(row)) if (v && typeof v === "object") collectIds(v, ids);
}

export function GraphPage() {
  const { query: params } = useLocation();
  const twin = params.get("twin") ?? "";
  const query = params.get("query") ?? "";
  const depth = Number(params.get("depth") ?? 2) || 2;
  const graph = useLoad<Graph>(() => loadGraph(twin, query, depth), [twin, query, depth]);
  const [typed, setTyped] = useState(twin);
  // the graph redraws when relationships or twins come and go
  const GRAPH_KINDS = ["RelationshipAdded", "RelationshipReplaced", "RelationshipRemoved", "TwinCreated", "TwinDeleted"];
  useFeedScope({ kinds: GRAPH_KINDS }, "graph");
  const redraw = useRef(0);
  useFeed((e) => {
    if (!GRAPH_KINDS.includes(e.kind)) return;
    clearTimeout(redraw.current);
    redraw.current = window.setTimeout(graph.reload, 300);
  }, []);
  const [selected, setSelected] = useState<string | null>(twin || null);

  return (
    <div class="page graph-page">
      <header class="page-head">
        <div>
          <h1>Graph</h1>
          <p class="muted">
            {query ? "Twins returned by the query and the relationships between them" : twin ? `Everything within ${depth} hop${depth === 1 ? "" : "s"} of ${twin}` : "The first twins of the fleet and their relationships"}
          </p>
        </div>
      </header>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setSelected(typed || null);
          setQuery({ twin: typed, query: null });
        }}
      >
        <input class="input grow" placeholder="Center on a twin id…" aria-label="Center on twin" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
        <select class="input" aria-label="Depth" value={String(depth)} onChange={(e) => setQuery({ depth: (e.target as HTMLSelectElement).value })}>
          {[1, 2, 3, 4].map((d) => (
            <option key={d} value={String(d)}>{d} hop{d > 1 ? "s" : ""}</option>
          ))}
        </select>
        <button class="btn primary">Show</button>
        {(twin || query) && (
          <button type="button" class="btn" onClick={() => setQuery({ twin: null, query: null })}>Whole fleet</button>
        )}
      </form>
      {query && <div class="note mono small">{query}</div>}
      {graph.error ? (
        <ErrorBox error={graph.error} retry={graph.reload} />
      ) : !graph.data ? (
        <Spinner label="Laying out the graph…" />
      ) : graph.data.nodes.length === 0 ? (
        <Empty title={twin ? `No twin called “${twin}”` : "No twins to draw"} icon="⬡">
          {twin ? "Check the id, or search the fleet." : "Create twins and relationships (PUT /api/v1/twins/{id}/relationships/{rel}) or run twinkit demo."}
        </Empty>
      ) : (
        <div class="graph-layout">
          <GraphCanvas graph={graph.data} selected={selected} onSelect={setSelected} center={twin} />
          <GraphSide graph={graph.data} selected={selected} />
        </div>
      )}
    </div>
  );
}

function GraphCanvas(props: { graph: Graph; selected: string | null; onSelect: (id: string) => void; center: string }) {
  const layout = useMemo(() => {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 70, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of props.graph.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
    for (const e of props.graph.edges) g.setEdge(e.source, e.target, { label: e.name, width: 40, height: 14 }, `${e.source}/${e.id}`);
    dagre.layout(g);
    const size = g.graph();
    return { g, width: size.width ?? 400, height: size.height ?? 300 };
  }, [props.graph]);

  const svg = useRef<SVGSVGElement>(null);
  const [view, setView] = useState({ x: 0, y: 0, k: 1 });
  const drag = useRef<{ x: number; y: number; vx: number; vy: number; moved: boolean } | null>(null);

  useEffect(() => setView({ x: 0, y: 0, k: 1 }), [props.graph]);

  const byId = new Map(props.graph.nodes.map((n) => [n.id, n]));
  const w = layout.width;
  const h = layout.height;
  return (
    <div class="graph-canvas">
      <svg
        ref={svg}
        data-testid="graph"
        viewBox={`0 0 ${w} ${h}`}
        style={{ height: `${Math.min(Math.max(h, 320), 720)}px` }}
        onWheel={(e) => {
          e.preventDefault();
          const k = Math.min(4, Math.max(0.2, view.k * (e.deltaY > 0 ? 0.9 : 1.1)));
          setView({ ...view, k });
        }}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          const dx = e.clientX - d.x;
          const dy = e.clientY - d.y;
          if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
          if (d.moved) setView({ ...view, x: d.vx + dx / view.k, y: d.vy + dy / view.k });
        }}
        onPointerUp={() => setTimeout(() => (drag.current = null), 0)}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8" />
          </marker>
        </defs>
        <g transform={`translate(${w / 2} ${h / 2}) scale(${view.k}) translate(${-w / 2 + view.x} ${-h / 2 + view.y})`}>
          {layout.g.edges().map((ref) => {
            const e = layout.g.edge(ref) as any;
            const pts: { x: number; y: number }[] = e.points ?? [];
            const d = pts.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
            return (
              <g key={ref.name} class="edge">
                <path d={d} marker-end="url(#arrow)" />
                {e.x !== undefined && (
                  <text x={e.x} y={e.y + 4} text-anchor="middle">{e.label}</text>
                )}
              </g>
            );
          })}
          {layout.g.nodes().map((id) => {
            const p = layout.g.node(id) as any;
            const n = byId.get(id)!;
            const color = modelColor(n.model);
            const active = props.selected === id;
            return (
              <g
                key={id}
                class={`node ${active ? "selected" : ""} ${props.center === id ? "center" : ""}`}
                data-node={id}
                transform={`translate(${p.x - NODE_W / 2} ${p.y - NODE_H / 2})`}
                onClick={() => {
                  if (!drag.current?.moved) props.onSelect(id);
                }}
                onDblClick={() => navigate(twinHref(id))}
                role="button"
                tabIndex={0}
                onKeyDown={(e) => e.key === "Enter" && navigate(twinHref(id))}
              >
                <title>{`${id}\n${n.model ?? "no model"}\nclick to select, double-click to open`}</title>
                <rect width={NODE_W} height={NODE_H} rx="9" fill="#fff" stroke={active ? "#0f172a" : color} stroke-width={active ? 2.5 : 1.5} />
                <rect width="6" height={NODE_H} rx="3" fill={color} />
                <circle cx={NODE_W - 12} cy="12" r="4" fill={n.online ? "#10b981" : "#cbd5e1"} />
                <text x="14" y="20" class="node-id">{id.length > 20 ? id.slice(0, 19) + "…" : id}</text>
                <text x="14" y="36" class="node-model" fill={color}>{modelName(n.model)}</text>
              </g>
            );
          })}
        </g>
      </svg>
      <div class="muted small graph-hint">
        {props.graph.nodes.length} twins · {props.graph.edges.length} relationships{props.graph.truncated ? " · truncated, narrow the view" : ""} · drag to pan, scroll to zoom, click to select, double-click to open
      </div>
    </div>
  );
}

function GraphSide(props: { graph: Graph; selected: string | null }) {
  const models = Array.from(new Set(props.graph.nodes.map((n) => n.model)));
  const node = props.graph.nodes.find((n) => n.id === props.selected);
  const out = props.graph.edges.filter((e) => e.source === props.selected);
  const inc = props.graph.edges.filter((e) => e.target === props.selected);
  return (
    <aside class="graph-side card">
      {node ? (
        <div class="stack" data-testid="graph-selection">
          <div>
            <div class="muted small">selected twin</div>
            <div class="side-title">{node.id}</div>
            <div class="muted small">{node.model ?? "no model"}</div>
            <StatusDot online={node.online} />
          </div>
          <div class="row gap">
            <Link class="btn primary small" href={twinHref(node.id)}>Open twin</Link>
            <Link class="btn small" href={`/graph?twin=${enc(node.id)}`}>Center here</Link>
          </div>
          {out.length + inc.length > 0 && (
            <ul class="rel-list small">
              {out.map((e) => (
                <li key={`o${e.id}`}><span class="rel-dir">→</span><span class="rel-name">{e.name}</span>{e.target}</li>
              ))}
              {inc.map((e) => (
                <li key={`i${e.source}${e.id}`}><span class="rel-dir">←</span>{e.source}<span class="rel-name">{e.name}</span></li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        <p class="muted small">Click a twin to see its relationships; double-click opens it.</p>
      )}
      <div class="legend">
        <div class="muted small">models</div>
        {models.map((m) => (
          <div key={m ?? ""} class="legend-item">
            <span class="swatch" style={{ background: modelColor(m) }} />
            {modelName(m)}
          </div>
        ))}
      </div>
    </aside>
  );
}
