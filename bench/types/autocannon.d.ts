// The few parts of autocannon 8 the bench uses (the package ships no types).
declare module 'autocannon' {
  interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
    total: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Per-request hooks; setupRequest may rewrite headers and body. */
    requests?: Array<{
      method?: string;
      path?: string;
      setupRequest?(req: { headers?: Record<string, string>; body?: string }): {
        headers?: Record<string, string>;
        body?: string;
      };
    }>;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    '4xx': number;
    /** Responses by status code. */
    statusCodeStats?: Record<string, { count: number }>;
  }
  /** The running load: a promise of its result that can also be stopped early. */
  interface Instance extends Promise<Result> {
    stop(): void;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
