/**
 * A TCP proxy between the API/worker and Postgres, to simulate a Postgres restart without
 * restarting the machine's shared Postgres (other engineers' tests use it): `cut()` drops every
 * open connection and stops listening (new connections are refused, as by a stopped server);
 * `restore()` listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class PgProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  connectionsCut = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get up(): boolean {
    return this.server !== undefined;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    server.on("error", () => undefined);
    const addr = server.address();
    this.port = typeof addr === "object" && addr ? addr.port : port;
    this.server = server;
  }

  private pipe(client: Socket) {
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Postgres "goes down": every connection dropped, new ones refused. */
  async cut(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.connectionsCut += this.sockets.size / 2;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Postgres is back on the same port. */
  async restore(): Promise<void> {
    if (this.server) return;
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
