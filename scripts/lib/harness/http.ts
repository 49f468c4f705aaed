/** One HTTP request that never throws: the harness counts a missing answer as a result of its own. */

export interface HttpResult {
  /** 0 when no HTTP answer came (connection refused or reset, timeout). */
  status: number;
  body: string;
  error?: string;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
}

export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: 0, body: "", error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

/** A JSON request that must answer 2xx: its parsed body, else an error naming the request. */
export async function requestJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await request(url, init);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${init.method ?? "GET"} ${url} → ${res.status || res.error} ${res.body.slice(0, 300)}`);
  }
  return JSON.parse(res.body) as T;
}

/** A JSON body's headers and text, or nothing when there is no body. */
export function jsonBody(body: unknown): Pick<RequestInit, "headers" | "body"> {
  if (body === undefined) return {};
  return {
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}
