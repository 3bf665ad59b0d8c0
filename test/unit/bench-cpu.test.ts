import { describe, expect, it } from 'vitest';
import { cpuResult, DRAINER_APP, drainerUrl, procCpuMs } from '../../bench/lib/cpu';

describe('bench CPU meter, pure parts', () => {
  it('reads a live process CPU from /proc and grows with work; a missing pid reads null', () => {
    const before = procCpuMs(process.pid)!;
    const u = process.cpuUsage();
    while (process.cpuUsage(u).user + process.cpuUsage(u).system < 150_000); // burn 150 ms of CPU
    expect(before).toBeGreaterThanOrEqual(0);
    expect(procCpuMs(process.pid)! - before).toBeGreaterThanOrEqual(100);
    expect(procCpuMs(99_999_999)).toBeNull();
  });
  it('drainerUrl adds the drainer application_name and keeps the rest of the URL', () => {
    const u = new URL(drainerUrl('postgres://postgres@127.0.0.1:5432/db1?sslmode=disable'));
    expect(u.searchParams.get('application_name')).toBe(DRAINER_APP);
    expect(u.searchParams.get('sslmode')).toBe('disable');
    expect(u.pathname).toBe('/db1');
  });
  it('cpuResult reports node + Postgres ms per 1,000 events, both as parts, lower is better', () => {
    const r = cpuResult('x-cpu', 'x', 20_000, { nodeMs: 5_000, postgresMs: 3_002, backends: 4 }, ['y-cpu']);
    expect(r).toMatchObject({ value: 400.1, unit: 'ms', better: 'lower', compareTo: ['y-cpu'] });
    expect(r.parts).toEqual({ node: 250, Postgres: 150.1 });
  });
  it('cpuResult without a Postgres reading reports the node part alone', () => {
    const r = cpuResult('x-cpu', 'x', 1_000, { nodeMs: 12.34, postgresMs: null, backends: 0 });
    expect(r.value).toBe(12.3);
    expect(r.parts).toEqual({ node: 12.3 });
  });
});
