import { createServer } from 'node:net';

/** A TCP port that was free a moment ago (bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when `port` can be listened on at 127.0.0.1 right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port for a local Kafka broker started through SLUICE_KAFKA_PORT: it and the next one (the broker's
 * controller listener) were both free a moment ago, and both lie below the kernel's ephemeral range
 * (32768-60999 here), where freePort's ports are. A freePort() port's neighbour can be any connection's
 * local port or another test's freePort(), and the broker then exits at start (the likely cause of two e2e
 * tests failing in one CI run, 2026-11-30: "Kafka broker exited (1)").
 */
export async function freeKafkaPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
  }
  throw new Error('no two free consecutive ports found between 20000 and 32000');
}
