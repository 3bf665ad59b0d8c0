import type CircuitBreaker from 'opossum';

export type Admission = 'pass' | 'probe' | 'defer';

/**
 * Who may call the endpoint now. Closed: everyone. Open: no one (rows are deferred). Half-open: the first
 * `probes` requests of each half-open period, after which the rest wait; the first probe that reaches
 * the endpoint closes the breaker, a probe that fails reopens it. Opossum itself would let exactly one
 * call through, so probes bypass its fire() and drive it with open()/close().
 */
export class ProbeGate {
  private left = 0;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly probes: number,
  ) {
    breaker.on('halfOpen', () => {
      this.left = this.probes;
    });
  }

  /** Synchronous with the request that follows, so the state cannot change in between. */
  admit(): Admission {
    if (this.breaker.closed) return 'pass';
    if (this.breaker.halfOpen && this.left > 0) {
      this.left--;
      return 'probe';
    }
    return 'defer';
  }

  /** A probe's verdict: the endpoint answered (even a 4xx) or it is still in trouble. */
  settle(endpointOk: boolean): void {
    if (!this.breaker.halfOpen) return; // another probe already decided
    if (endpointOk) this.breaker.close();
    else this.breaker.open();
  }
}
