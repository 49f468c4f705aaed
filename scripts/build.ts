/**
 * `npm run build`: the production build the Docker image runs (`node dist/<entry>.js`). Our own
 * TypeScript — the workspace packages included — is bundled to plain ESM; every npm package stays
 * external, loaded from node_modules as `npm ci --omit=dev` installs it, so native and optional
 * dependencies and the files libraries read from their own package folders (bull-board's UI, Swagger
 * UI's assets, BullMQ's Lua scripts) work unchanged. drizzle/ is copied beside the bundles, where
 * db/migrate.ts looks for it when bundled. The build fails when a bundle imports a package that no
 * workspace lists in `dependencies` (a devDependency is absent from the image).
 *
 * `npm run start:api` / `start:worker` still run the sources with tsx for development.
 */
import { cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = `${ROOT}dist`;

/** Output name → source. The Dockerfile and docker-compose.yml run these as `node dist/<name>.js`. */
const BUNDLES = {
  api: "apps/api/src/main.ts",
  worker: "apps/worker/src/main.ts",
  migrate: "packages/journeys/src/db/migrate-cli.ts",
  seed: "packages/journeys/src/seed/seed-cli.ts",
  "fake-telegram": "packages/fake-telegram/src/cli.ts",
} as const;

const WORKSPACE_SCOPE = "@journeys/";

/**
 * Workspace packages are TypeScript sources Node cannot load: bundle them. A package's JSON data is
 * bundled too (esbuild drops the `with { type: "json" }` an external import needs on Node 20). Every
 * other package is left to node_modules.
 */
const externalPackages: Plugin = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith(WORKSPACE_SCOPE) || args.path.endsWith(".json")
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Every package some workspace (or the root) lists under `dependencies`: what `npm ci --omit=dev` installs by name. */
function runtimeDependencies(): Set<string> {
  const manifests = ["package.json"];
  for (const dir of ["packages", "apps"])
    for (const name of readdirSync(`${ROOT}${dir}`)) manifests.push(`${dir}/${name}/package.json`);
  const names = new Set<string>();
  for (const file of manifests) {
    const pkg = JSON.parse(readFileSync(`${ROOT}${file}`, "utf8")) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies ?? {})) names.add(name);
  }
  return names;
}

/** Packages the bundles import at run time that the image would not have. */
function undeclaredImports(metafile: Metafile): string[] {
  const builtins = new Set(builtinModules);
  const declared = runtimeDependencies();
  const missing = new Set<string>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith("node:") || builtins.has(imp.path)) continue;
      const name = packageName(imp.path);
      if (!declared.has(name)) missing.add(`${name} (imported by ${file})`);
    }
  }
  return [...missing].sort();
}

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: Object.entries(BUNDLES).map(([out, src]) => ({ in: src, out })),
  outdir: OUT,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // pino and error logs name errors by their constructor; keep class names as written.
  keepNames: true,
  plugins: [externalPackages],
  metafile: true,
  logLevel: "warning",
});

const missing = undeclaredImports(result.metafile);
if (missing.length > 0) {
  console.error(`build: imported at run time but in no workspace's dependencies (absent from the image):`);
  for (const m of missing) console.error(`  ${m}`);
  process.exit(1);
}

cpSync(`${ROOT}drizzle`, `${OUT}/drizzle`, { recursive: true });
for (const [file, output] of Object.entries(result.metafile.outputs))
  console.log(`${file}  ${(output.bytes / 1024).toFixed(0)} KB`);
console.log("dist/drizzle  (migrations)");
