import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logReason, startBroker } from '../../src/infra/kafka/broker';
import { pidsWithCommandLine } from '../../src/infra/processes';
import { freeKafkaPort } from '../helpers/ports';

/**
 * The local broker listens on SLUICE_KAFKA_PORT and, for its controller, on the next port. With that one
 * taken, Kafka exited (1) a few seconds into the start with its reason only in broker.log.
 */
describe('the local Kafka broker and its two ports', () => {
  const home = mkdtempSync(join(tmpdir(), 'sluice-broker-ports-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('a taken controller port (SLUICE_KAFKA_PORT + 1) is refused before any broker starts, naming the port', async () => {
    const port = await freeKafkaPort();
    const squatter: Server = await new Promise((resolve) => {
      const s = createServer().listen(port + 1, '127.0.0.1', () => resolve(s));
    });
    try {
      await expect(startBroker({ home: join(home, 'kafka'), port })).rejects.toThrow(
        `port ${port + 1} (the broker's controller listener, SLUICE_KAFKA_PORT + 1) is already in use`,
      );
      expect(pidsWithCommandLine(join(home, 'kafka', 'server.properties'))).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it("a broker that exited at start is explained by its log's first error and the exception under it", () => {
    const log = join(home, 'broker.log');
    writeFileSync(
      log,
      [
        '[2026-11-30 14:16:49,600] INFO starting (kafka.server.KafkaRaftServer)',
        '[2026-11-30 14:16:49,619] ERROR Unable to start acceptor for ListenerName(CONTROLLER) (kafka.network.DataPlaneAcceptor)',
        'org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:24568: Address already in use.',
        '\tat kafka.network.Acceptor.openServerSocket(SocketServer.scala:729)',
        '[2026-11-30 14:16:49,633] ERROR Encountered fatal fault: caught exception (org.apache.kafka.server.fault.ProcessTerminatingFaultHandler)',
      ].join('\n'),
    );
    expect(logReason(log)).toBe(
      ': [2026-11-30 14:16:49,619] ERROR Unable to start acceptor for ListenerName(CONTROLLER) (kafka.network.DataPlaneAcceptor)' +
        ' (org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:24568: Address already in use.)',
    );
    expect(logReason(join(home, 'missing.log'))).toBe('');
  });
});
