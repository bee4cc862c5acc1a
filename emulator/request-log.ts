import type { RouteName } from "./http";

export interface RequestLogEntry {
  seq: number;
  /** Virtual clock (ms since epoch) when the request arrived. */
  time: number;
  /** Wall clock (ms since epoch) when the request arrived. */
  wallTime: number;
  method: string;
  route: RouteName;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON or form body; undefined when there was none. */
  body: unknown;
  /** Response status; 0 when the connection was dropped without an answer. */
  status: number;
  durationMs: number;
  requestId: string;
  /** The client's TCP port: tells which connection (a proxy's tunnel, say) carried the request. */
  remotePort: number;
  /** Which injected fault shaped this answer, if any (e.g. "status 429", "dropAfter"). */
  fault?: string;
}

export interface RequestLogFilter {
  route?: RouteName | RouteName[];
  method?: string;
  status?: number;
  since?: number; // seq, exclusive
}

export class RequestLog {
  private readonly items: RequestLogEntry[] = [];
  private seq = 0;

  nextSeq(): number {
    return ++this.seq;
  }

  add(entry: RequestLogEntry): void {
    this.items.push(entry);
    // Bound memory for long-running CLI sessions.
    if (this.items.length > 10_000) this.items.splice(0, this.items.length - 10_000);
  }

  entries(filter: RequestLogFilter = {}): RequestLogEntry[] {
    const routes = filter.route === undefined ? undefined : Array.isArray(filter.route) ? filter.route : [filter.route];
    return this.items.filter(
      (e) =>
        (!routes || routes.includes(e.route)) &&
        (!filter.method || e.method.toUpperCase() === filter.method.toUpperCase()) &&
        (filter.status === undefined || e.status === filter.status) &&
        (filter.since === undefined || e.seq > filter.since),
    );
  }

  clear(): void {
    this.items.length = 0;
  }
}
