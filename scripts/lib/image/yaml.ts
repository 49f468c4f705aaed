/**
 * Reads the YAML docker-compose.yml is written in, and nothing more: block maps and lists, plain,
 * quoted and flow-list scalars, anchors, aliases and `<<` merges, comments. Anything else throws
 * naming the line, so a compose file that outgrows this reader stops `npm run test:image` instead of
 * being misread. (The project has no YAML parser among its dependencies; this is enough for one file.)
 */
export type Yaml = string | Yaml[] | { [key: string]: Yaml };

interface Line {
  no: number;
  indent: number;
  text: string;
}

/** Drop a comment: `#` at the start or after a space, outside quotes. */
function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || raw[i - 1] === " ")) return raw.slice(0, i);
  }
  return raw;
}

export function parseYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === "") return;
    if (text.includes("\t")) throw new Error(`yaml line ${i + 1}: tabs are not supported`);
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  const anchors = new Map<string, Yaml>();
  let pos = 0;

  const fail = (line: Line, why: string): never => {
    throw new Error(`yaml line ${line.no}: ${why} ("${line.text}")`);
  };

  function scalar(text: string, line: Line): Yaml {
    if (text.startsWith("*")) {
      const found = anchors.get(text.slice(1));
      return found === undefined ? fail(line, `unknown alias ${text}`) : found;
    }
    if (text.startsWith('"')) return JSON.parse(text) as string;
    if (text.startsWith("'")) {
      if (!text.endsWith("'")) fail(line, "unterminated quote");
      return text.slice(1, -1).replaceAll("''", "'");
    }
    if (text.startsWith("[")) {
      // Flow lists of double-quoted strings are JSON; other flow lists are not supported.
      try {
        const list = JSON.parse(text) as unknown;
        if (Array.isArray(list) && list.every((x) => typeof x === "string")) return list as string[];
      } catch {}
      return fail(line, "only flow lists of double-quoted strings are supported");
    }
    if (/^[{|>&!%@`]/.test(text)) fail(line, "unsupported YAML syntax");
    return text;
  }

  function block(indent: number): Yaml {
    const first = lines[pos]!;
    if (first.text.startsWith("- ") || first.text === "-") {
      const list: Yaml[] = [];
      while (pos < lines.length && lines[pos]!.indent === indent && lines[pos]!.text.startsWith("-")) {
        const line = lines[pos++]!;
        const item = line.text.slice(1).trim();
        if (item === "" || /^[^"'[]*:( |$)/.test(item)) fail(line, "only scalar list items are supported");
        list.push(scalar(item, line));
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const line = lines[pos++]!;
      const m = /^([A-Za-z0-9_.<-][A-Za-z0-9_.<-]*|"[^"]*"):(?: +(.*))?$/.exec(line.text);
      if (!m) fail(line, "expected `key: value`");
      const key = m![1]!.startsWith('"') ? (JSON.parse(m![1]!) as string) : m![1]!;
      let rest = m![2] ?? "";
      let anchor: string | null = null;
      const a = /^&([A-Za-z0-9_-]+)\s*(.*)$/.exec(rest);
      if (a) [anchor, rest] = [a[1]!, a[2]!];
      let value: Yaml;
      if (rest === "") {
        const next = lines[pos];
        if (!next || next.indent <= indent) value = "";
        else value = block(next.indent);
      } else value = scalar(rest, line);
      if (anchor) anchors.set(anchor, value);
      if (key === "<<") {
        if (typeof value !== "object" || Array.isArray(value)) fail(line, "`<<` must merge a map");
        for (const [k, v] of Object.entries(value)) if (!(k in map)) map[k] = v;
      } else map[key] = value;
    }
    return map;
  }

  if (lines.length === 0) return {};
  const root = block(lines[0]!.indent);
  if (pos < lines.length) fail(lines[pos]!, "unexpected indentation");
  return root;
}

/**
 * Compose's variable substitution: `${NAME:-default}` (default when unset or empty), `${NAME-default}`
 * (when unset), `${NAME}`, and `$$` for a literal `$`. Other forms throw.
 */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$./g, (match, name, op, fallback) => {
    if (match === "$$") return "$";
    if (name === undefined) throw new Error(`unsupported substitution ${match} in "${value}"`);
    const v = env[name];
    if (op === ":-") return v === undefined || v === "" ? fallback : v;
    if (op === "-") return v === undefined ? fallback : v;
    return v ?? "";
  });
}
