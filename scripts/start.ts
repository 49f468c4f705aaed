/**
 * `npm start`: migrate, then run the API (which seeds) and the worker together for local use,
 * logs labelled, Ctrl-C stopping both. `-- --fake-telegram` also runs the fake Bot API on :8081 and
 * points TELEGRAM_API_ROOT at it, so the whole product can be tried without a real bot.
 */
import { parseArgs } from "node:util";
import { loadConfigOrExit, runMigrations } from "../packages/journeys/src/index.ts";
import { DEFAULT_FAKE_TELEGRAM_PORT, ENTRY, type Proc, startProc, waitForHttp } from "./lib/procs.ts";

const { values } = parseArgs({
  options: {
    "fake-telegram": { type: "boolean", default: false },
    "fake-port": { type: "string", default: DEFAULT_FAKE_TELEGRAM_PORT },
  },
});

process.env.NODE_ENV ??= "development";
const procs: Proc[] = [];
if (values["fake-telegram"]) {
  process.env.TELEGRAM_API_ROOT = `http://127.0.0.1:${values["fake-port"]}`;
  procs.push(startProc("telegram", ENTRY.fakeTelegram, { args: ["--port", values["fake-port"]] }));
  await waitForHttp(`${process.env.TELEGRAM_API_ROOT}/_fake/stats`, 20_000);
}

const config = loadConfigOrExit();
try {
  await runMigrations(config.databaseUrl);
  console.log("[start] migrations applied");
} catch (err) {
  console.error(
    `[start] cannot migrate ${config.databaseUrl.replace(/\/\/[^@/]*@/, "//***@")}: ${(err as Error).message}`,
  );
  for (const p of procs) await p.stop();
  process.exit(1);
}

procs.push(startProc("api", ENTRY.api), startProc("worker", ENTRY.worker));

let stopping = false;
let firstSignalAt = 0;
async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  await Promise.all(procs.map((p) => p.stop(15_000)));
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // tsx relays the signal it got, so one Ctrl-C can arrive twice: only a later one forces the exit.
    if (stopping && Date.now() - firstSignalAt > 1000) process.exit(130);
    if (stopping) return;
    firstSignalAt = Date.now();
    console.log(`[start] ${signal}: stopping api and worker`);
    void stopAll(0);
  });
}
for (const p of procs) {
  void p.exited.then((code) => {
    if (stopping) return;
    console.error(`[start] ${p.name} exited (code ${code}); stopping the rest`);
    void stopAll(code || 1);
  });
}
