import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { call } from "./admin-support.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const env = await createTestEnv();
// The app on the development defaults, as `npm run token` uses them with NODE_ENV=development.
const { app } = await startTestApi(env, { NODE_ENV: "development", JWT_SECRET: "" });

/** `npm run token -- <args>` as a user runs it: no JWT_SECRET, NODE_ENV=development. */
async function npmToken(args: string[]) {
  const { JWT_SECRET: _j, BOT_TOKEN_ENCRYPTION_KEY: _k, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)("npm", ["run", "-s", "token", "--", ...args], {
      cwd: ROOT,
      env: { ...inherited, NODE_ENV: "development" },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());

describe("npm run token", () => {
  it("prints a token the API accepts, with the tenant, role, ttl and sub asked for; refuses bad arguments", async () => {
    const [adminRun, memberRun, badRun] = await Promise.all([
      npmToken(["--tenant", "t1", "--role", "admin", "--ttl", "2h", "--sub", "alice"]),
      npmToken(["--tenant", "t1", "--role", "member"]),
      npmToken(["--tenant", "t1", "--role", "owner"]),
    ]);
    expect(adminRun.code, adminRun.stderr).toBe(0);
    const admin = adminRun.stdout.trim();
    expect(admin).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = payloadOf(admin);
    expect(claims).toMatchObject({ sub: "alice", tenant_id: "t1", role: "admin" });
    expect(claims.exp - claims.iat).toBe(7200);
    const debug = await call(app, { method: "GET", url: "/api/journeys/debug/sessions", token: admin });
    expect(debug.statusCode).toBe(200);

    const member = memberRun.stdout.trim();
    expect(payloadOf(member)).toMatchObject({ sub: "cli", tenant_id: "t1", role: "member" });
    expect(payloadOf(member).exp - payloadOf(member).iat).toBe(3600);
    expect((await call(app, { method: "GET", url: "/api/journeys", token: member })).statusCode).toBe(200);
    expect((await call(app, { method: "GET", url: "/api/journeys/debug/sessions", token: member })).statusCode).toBe(
      403,
    );

    expect(badRun.code).toBe(2);
    expect(badRun.stdout).toBe("");
    expect(badRun.stderr).toMatch(/--role must be one of admin, member/);
    expect(badRun.stderr).toMatch(/usage: npm run token -- --tenant <id> --role <admin\|member>/);
  });
});
