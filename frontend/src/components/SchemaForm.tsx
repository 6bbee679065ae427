// Inputs generated from a DTDL schema, with validation before anything is sent.
import type { Schema } from "../api";

const INTEGER: Record<string, [number, number]> = {
  byte: [-128, 127], short: [-32768, 32767], integer: [-(2 ** 31), 2 ** 31 - 1],
  long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], unsignedByte: [0, 255],
  unsignedShort: [0, 65535], unsignedInteger: [0, 2 ** 32 - 1], unsignedLong: [0, Number.MAX_SAFE_INTEGER],
};
const FLOAT = new Set(["double", "float", "decimal"]);

export type Problem = { path: string; message: string };

/** An empty raw (form) value for a schema. */
export function blank(schema: Schema | undefined): any {
  if (!schema) return "";
  if (schema.type === "object") return Object.fromEntries((schema.fields ?? []).map((f) => [f.name, blank(f.schema)]));
  if (schema.type === "boolean") return false;
  return "";
}

/** A raw value from the current typed value (to prefill an editor). */
export function toRaw(schema: Schema | undefined, value: any): any {
  if (value === undefined || value === null) return blank(schema);
  if (!schema) return typeof value === "string" ? value : JSON.stringify(value);
  if (schema.type === "object" && typeof value === "object") {
    return Object.fromEntries((schema.fields ?? []).map((f) => [f.name, toRaw(f.schema, value[f.name])]));
  }
  if (schema.type === "boolean") return !!value;
  if (["array", "map", "any"].includes(schema.type)) return JSON.stringify(value);
  return String(value);
}

/** Turn raw form values into typed values, collecting every problem with its JSON pointer. */
export function coerce(schema: Schema | undefined, raw: any, path: string, problems: Problem[]): any {
  const type = schema?.type ?? "any";
  if (type === "object") {
    const out: Record<string, any> = {};
    for (const f of schema!.fields ?? []) {
      const v = coerce(f.schema, raw?.[f.name], `${path}/${f.name}`, problems);
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  }
  if (type === "boolean") return !!raw;
  const text = typeof raw === "string" ? raw.trim() : raw;
  if (text === "" || text === undefined) {
    problems.push({ path, message: "required" });
    return undefined;
  }
  if (type in INTEGER) {
    const n = Number(text);
    const [lo, hi] = INTEGER[type];
    if (!Number.isInteger(n)) problems.push({ path, message: `must be a whole number (${type})` });
    else if (n < lo || n > hi) problems.push({ path, message: `must be between ${lo} and ${hi}` });
    return n;
  }
  if (FLOAT.has(type)) {
    const n = Number(text);
    if (!Number.isFinite(n)) problems.push({ path, message: `must be a number` });
    return n;
  }
  if (type === "enum") {
    const found = schema!.values?.find((v) => String(v.value) === String(text) || v.name === text);
    if (!found) problems.push({ path, message: "pick one of the listed values" });
    return found ? found.value : text;
  }
  if (type === "dateTime" && Number.isNaN(Date.parse(text))) {
    problems.push({ path, message: "must be a date and time, e.g. 2026-01-31T12:00:00Z" });
  }
  if (type === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(text)) problems.push({ path, message: "must be a date like 2026-01-31" });
  if (type === "duration" && !/^P(?!$)/.test(text)) problems.push({ path, message: "must be an ISO 8601 duration like PT5M" });
  if (["array", "map", "any"].includes(type)) {
    try {
      const v = JSON.parse(text);
      if (type === "array" && !Array.isArray(v)) problems.push({ path, message: "must be a JSON array" });
      if (type === "map" && (typeof v !== "object" || Array.isArray(v) || v === null)) problems.push({ path, message: "must be a JSON object" });
      return v;
    } catch {
      if (type === "any") return text;
      problems.push({ path, message: "must be valid JSON" });
      return undefined;
    }
  }
  return text;
}

export function SchemaInput(props: { schema?: Schema; value: any; onChange: (v: any) => void; path: string; problems: Problem[]; label?: string; id?: string }) {
  const { schema, value, onChange, path } = props;
  const problem = props.problems.find((p) => p.path === path);
  const type = schema?.type ?? "any";
  const inputId = props.id ?? `in${path.replace(/[^a-zA-Z0-9]/g, "_")}`;
  let input;
  if (type === "object") {
    return (
      <fieldset class="fieldset">
        {props.label && <legend>{props.label}</legend>}
        {(schema!.fields ?? []).map((f) => (
          <label class="field" key={f.name}>
            <span class="field-label">{f.name} <span class="muted small">{f.schema.type}</span></span>
            <SchemaInput
              schema={f.schema}
              value={value?.[f.name]}
              path={`${path}/${f.name}`}
              problems={props.problems}
              onChange={(v) => onChange({ ...(value ?? {}), [f.name]: v })}
            />
          </label>
        ))}
      </fieldset>
    );
  }
  if (type === "boolean") {
    input = (
      <select id={inputId} class="input" value={value ? "true" : "false"} onChange={(e) => onChange((e.target as HTMLSelectElement).value === "true")}>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else if (type === "enum") {
    input = (
      <select id={inputId} class="input" value={value ?? ""} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">choose…</option>
        {(schema!.values ?? []).map((v) => (
          <option key={v.name} value={String(v.value)}>{v.name}</option>
        ))}
      </select>
    );
  } else if (type in INTEGER || FLOAT.has(type)) {
    input = (
      <input
        id={inputId}
        class={`input ${problem ? "invalid" : ""}`}
        inputMode="decimal"
        value={value ?? ""}
        placeholder={type}
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
      />
    );
  } else if (["array", "map", "any"].includes(type)) {
    input = (
      <textarea id={inputId} class={`input mono ${problem ? "invalid" : ""}`} rows={2} value={value ?? ""} placeholder="JSON" onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)} />
    );
  } else {
    input = (
      <input id={inputId} class={`input ${problem ? "invalid" : ""}`} value={value ?? ""} placeholder={type} onInput={(e) => onChange((e.target as HTMLInputElement).value)} />
    );
  }
  return (
    <span class="input-wrap">
      {input}
      {problem && <span class="field-error" role="alert">{problem.message}</span>}
    </span>
  );
}
