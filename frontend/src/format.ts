// Readable numbers, units and times.

const UNITS: Record<string, string> = {
  degreeCelsius: "°C", degreeFahrenheit: "°F", kelvin: "K", percent: "%",
  revolutionPerMinute: "rpm", revolutionPerSecond: "rps", hertz: "Hz", kilohertz: "kHz",
  watt: "W", kilowatt: "kW", megawatt: "MW", kilowattHour: "kWh", megawattHour: "MWh",
  volt: "V", millivolt: "mV", kilovolt: "kV", ampere: "A", milliampere: "mA",
  pascal: "Pa", kilopascal: "kPa", megapascal: "MPa", bar: "bar", millibar: "mbar",
  poundPerSquareInch: "psi", hectopascal: "hPa", millimetresOfMercury: "mmHg",
  metre: "m", centimetre: "cm", millimetre: "mm", kilometre: "km", micrometre: "µm",
  second: "s", millisecond: "ms", minute: "min", hour: "h", day: "d",
  metrePerSecond: "m/s", millimetrePerSecond: "mm/s", kilometrePerHour: "km/h",
  metrePerSecondSquared: "m/s²", gForce: "g",
  litre: "L", millilitre: "mL", cubicMetre: "m³", litrePerSecond: "L/s", litrePerHour: "L/h",
  litrePerMinute: "L/min",
  cubicMetrePerSecond: "m³/s", cubicMetrePerHour: "m³/h", kilogram: "kg", gram: "g", tonne: "t",
  kilogramPerSecond: "kg/s", newton: "N", newtonMetre: "N·m", decibel: "dB", lux: "lx",
  partsPerMillion: "ppm", beatsPerMinute: "bpm", radianPerSecond: "rad/s", degreeOfArc: "°",
  radian: "rad", joule: "J", kilojoule: "kJ", byte: "B", kibibyte: "KiB", mebibyte: "MiB",
  unity: "",
};

export function unitSymbol(unit: string | null | undefined): string {
  if (!unit) return "";
  return UNITS[unit] ?? unit;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1e15) return value.toLocaleString("en-US");
  if (abs >= 1e6 || (abs > 0 && abs < 1e-3)) return value.toExponential(2);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatValue(value: unknown, unit?: string | null): string {
  const symbol = unitSymbol(unit);
  if (typeof value === "number") {
    const text = formatNumber(value);
    if (!symbol) return text;
    return symbol === "%" || symbol === "°" ? text + symbol : `${text} ${symbol}`;
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + "…" : text;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("en-GB", {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** `dtmi:acme:Pump;1` → `Pump` (the name people say). */
export function modelName(dtmi: string | null | undefined): string {
  if (!dtmi) return "no model";
  const tail = dtmi.split(":").pop() ?? dtmi;
  return tail.split(";")[0];
}

export function schemaText(schema: any): string {
  if (!schema) return "any";
  if (typeof schema === "string") return schema;
  switch (schema.type) {
    case "object":
      return `object {${(schema.fields ?? []).map((f: any) => `${f.name}: ${schemaText(f.schema)}`).join(", ")}}`;
    case "array":
      return `${schemaText(schema.element)}[]`;
    case "enum":
      return `enum (${(schema.values ?? []).map((v: any) => v.name).join(" | ")})`;
    case "map":
      return `map<${schema.key ?? "key"}, ${schemaText(schema.value)}>`;
    default:
      return schema.type;
  }
}

export function isNumericSchema(schema: any): boolean {
  const t = typeof schema === "string" ? schema : schema?.type;
  return ["double", "float", "decimal", "integer", "long", "short", "byte",
    "unsignedByte", "unsignedShort", "unsignedInteger", "unsignedLong"].includes(t);
}

const PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#ea580c"];

/** A stable colour per model, the same on every page. */
export function modelColor(model: string | null): string {
  if (!model) return "#64748b";
  let h = 0;
  for (const ch of model) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}
