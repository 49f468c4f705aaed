/**
 * The build context as `docker build` sends it: every file under the root that .dockerignore does
 * not exclude. Patterns are Docker's: relative to the context root, `*` and `?` within one path
 * segment, `**` across segments, a matched directory excludes what is under it, `!` re-includes,
 * and the last matching line wins.
 */
import { readdirSync, readFileSync } from "node:fs";

interface Rule {
  negate: boolean;
  re: RegExp;
}

function toRegExp(pattern: string): RegExp {
  if (/[[\]\\]/.test(pattern))
    throw new Error(`.dockerignore: character classes and escapes are not supported ("${pattern}")`);
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` matches zero or more directories; a trailing `**` anything below.
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function readDockerignore(file: string): Rule[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+/, "").replace(/\/+$/, "");
      return { negate, re: toRegExp(pattern) };
    });
}

/** Whether `path` (relative, `/`-separated) or a directory above it is excluded. */
export function isIgnored(rules: Rule[], path: string): boolean {
  const parts = path.split("/");
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join("/"))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}

/** Files (and symlinks) of the context, relative to `root`. */
export function contextFiles(root: string, rules: Rule[]): string[] {
  const out: string[] = [];
  // With a `!` line, something under an excluded directory may come back: look inside it too.
  const reincludes = rules.some((r) => r.negate);
  const walk = (dir: string) => {
    for (const entry of readdirSync(`${root}/${dir}`, { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      const ignored = isIgnored(rules, rel);
      if (entry.isDirectory()) {
        if (!ignored || reincludes) walk(rel);
      } else if (!ignored) out.push(rel);
    }
  };
  walk("");
  return out.sort();
}
