// Find where a JSON pointer (/0/contents/2/schema) sits in JSON text, so a validation error
// from the server can be shown on the line that caused it.

export type Location = { line: number; column: number; offset: number };

export function locate(text: string, pointer: string): Location | null {
  const wanted = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    try {
      return JSON.parse(text.slice(start, i));
    } catch {
      return "";
    }
  };
  // walk the value at i; when path matches `wanted` return its offset
  let found: number | null = null;
  let best: number | null = null;
  const walk = (path: string[]): void => {
    ws();
    if (found !== null) return;
    const matches = path.length === wanted.length && path.every((p, k) => p === wanted[k]);
    const prefix = path.length <= wanted.length && path.every((p, k) => p === wanted[k]);
    if (prefix) best = i;
    if (matches) {
      found = i;
      return;
    }
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      while (i < text.length) {
        ws();
        const keyAt = i;
        const key = str();
        ws();
        i++; // colon
        const child = [...path, key];
        if (child.length === wanted.length && child.every((p, k) => p === wanted[k])) {
          found = keyAt;
          return;
        }
        walk(child);
        if (found !== null) return;
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      let n = 0;
      while (i < text.length) {
        walk([...path, String(n++)]);
        if (found !== null) return;
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
    }
  };
  walk([]);
  const offset = found ?? best;
  if (offset === null) return null;
  return position(text, offset);
}

export function position(text: string, offset: number): Location {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1, offset };
}

/** Where JSON.parse stopped, from its message ("at position 12" or "line 2 column 5"). */
export function syntaxLocation(text: string, message: string): Location | null {
  const pos = /position (\d+)/.exec(message);
  if (pos) return position(text, Number(pos[1]));
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) {
    const lines = text.split("\n");
    const line = Number(lc[1]);
    const offset = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0) + Number(lc[2]) - 1;
    return { line, column: Number(lc[2]), offset };
  }
  return null;
}
