/**
 * The build context `docker build` would send (the working tree without what .dockerignore
 * excludes), copied into a scratch folder, and test-image's one deliberate change to it.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { ROOT } from "../procs.ts";
import { containerEnv, run } from "./dockerfile.ts";
import { contextFiles, readDockerignore } from "./dockerignore.ts";

/** The build context: the working tree without what .dockerignore excludes. */
export function copyContext(dest: string): number {
  const files = contextFiles(ROOT.replace(/\/$/, ""), readDockerignore(`${ROOT}.dockerignore`));
  for (const f of files) cpSync(`${ROOT}${f}`, `${dest}/${f}`, { verbatimSymlinks: true });
  return files.length;
}

/** --demote: a dependency moved to devDependencies in the scratch copy (the lock file follows). */
export async function demote(context: string, name: string): Promise<string> {
  const manifests = ["package.json", ...["packages", "apps"].flatMap((d) => workspaceManifests(context, d))];
  const file = manifests.find((m) => readJson(`${context}/${m}`).dependencies?.[name]);
  if (!file) throw new Error(`--demote ${name}: no workspace lists it in dependencies`);
  const pkg = readJson(`${context}/${file}`);
  pkg.devDependencies = { ...pkg.devDependencies, [name]: pkg.dependencies![name]! };
  delete pkg.dependencies![name];
  writeFileSync(`${context}/${file}`, `${JSON.stringify(pkg, null, 2)}\n`);
  const npm = ["npm", "install", "--package-lock-only", "--prefer-offline", "--no-audit", "--no-fund"];
  await run(npm, context, { ...containerEnv() }, "npm install --package-lock-only");
  return file;
}
type Manifest = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Manifest;
const workspaceManifests = (root: string, dir: string) =>
  contextFiles(`${root}/${dir}`, [])
    .filter((f) => /^[^/]+\/package\.json$/.test(f))
    .map((f) => `${dir}/${f}`);
