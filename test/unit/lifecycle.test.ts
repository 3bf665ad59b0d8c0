import { describe, expect, it } from 'vitest';
import { component, Lifecycle, StoppedDuringStart } from '../../src/lib/lifecycle';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function recorder() {
  const events: string[] = [];
  const part = (name: string, o: { startMs?: number; failStart?: boolean; hangStop?: boolean } = {}) =>
    component(
      async (signal) => {
        events.push(`start ${name}`);
        if (o.startMs)
          await new Promise<void>((res) => {
            const t = setTimeout(res, o.startMs);
            signal.addEventListener('abort', () => {
              clearTimeout(t);
              events.push(`abort ${name}`);
              res();
            });
          });
        if (o.failStart) throw new Error(`${name} failed`);
      },
      async () => {
        events.push(`stop ${name}`);
        if (o.hangStop) await new Promise(() => undefined);
      },
    );
  return { events, part };
}

describe('Lifecycle: components start in order and stop in reverse', () => {
  it('stops started components in reverse order, once, however often stop() is called', async () => {
    const { events, part } = recorder();
    const life = new Lifecycle(quiet);
    for (const n of ['pg', 'pools', 'broker', 'api']) await life.start(n, part(n));
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    expect(events).toEqual([
      'start pg',
      'start pools',
      'start broker',
      'start api',
      'stop api',
      'stop broker',
      'stop pools',
      'stop pg',
    ]);
  });

  it('a stop during a start aborts that start, stops it too, and later starts throw StoppedDuringStart', async () => {
    const { events, part } = recorder();
    const life = new Lifecycle(quiet);
    await life.start('pg', part('pg'));
    const slow = life.start('broker', part('broker', { startMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 20));
    const stopped = life.stop();
    await expect(slow).rejects.toBeInstanceOf(StoppedDuringStart);
    await stopped;
    await expect(life.start('api', part('api'))).rejects.toBeInstanceOf(StoppedDuringStart);
    expect(events).toEqual(['start pg', 'start broker', 'abort broker', 'stop broker', 'stop pg']);
  });

  it('a start that fails because the stop aborted it reports StoppedDuringStart, not its own error', async () => {
    const life = new Lifecycle(quiet);
    const aborting = component(
      (signal) =>
        new Promise<void>((_res, rej) =>
          signal.addEventListener('abort', () => rej(new Error('start aborted'))),
        ),
      () => undefined,
    );
    const starting = life.start('broker', aborting);
    void life.stop();
    await expect(starting).rejects.toBeInstanceOf(StoppedDuringStart);
  });

  it('a component that fails to start is not stopped; the ones before it are, by the caller', async () => {
    const { events, part } = recorder();
    const life = new Lifecycle(quiet);
    await life.start('pg', part('pg'));
    await expect(life.start('broker', part('broker', { failStart: true }))).rejects.toThrow('broker failed');
    await life.stop();
    expect(events).toEqual(['start pg', 'start broker', 'stop pg']);
  });

  it('a stop that hangs past the deadline does not keep the components before it running', async () => {
    const { events, part } = recorder();
    const warned: string[] = [];
    const life = new Lifecycle({ ...quiet, warn: (o: object) => void warned.push(JSON.stringify(o)) }, 50);
    await life.start('pg', part('pg'));
    await life.start('drain', part('drain', { hangStop: true }));
    await life.stop();
    expect(events).toEqual(['start pg', 'start drain', 'stop drain', 'stop pg']);
    expect(warned[0]).toContain('"component":"drain"');
  });
});
