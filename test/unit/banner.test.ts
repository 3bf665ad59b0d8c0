import { describe, expect, it } from 'vitest';
import { bannerLines, type BannerInfo } from '../../src/cli/banner';

const info = (o: Partial<BannerInfo>): BannerInfo => ({
  url: 'http://127.0.0.1:8080',
  pid: 4242,
  instance: 'vm-4242',
  home: '/tmp/sluice-home',
  database: { url: 'postgres://postgres@127.0.0.1:5432/sluice', embedded: false },
  kafka: { brokers: ['127.0.0.1:9092'], local: false, topic: 'sluice.events' },
  apiKey: { source: 'env' },
  routes: { count: 1, configPath: null },
  publicEndpoints: [],
  color: false,
  ...o,
});
const stopLine = (b: BannerInfo) => bannerLines(b).find((l) => l.startsWith('Stop:'));

describe('sluice start banner: the Stop line names only what this start launched', () => {
  it('embedded Postgres and a local broker: both are named after the service itself', () => {
    expect(
      stopLine(
        info({
          database: { url: 'postgres://postgres@127.0.0.1:54329/sluice', embedded: true },
          kafka: { brokers: ['127.0.0.1:19092'], local: true, topic: 'sluice.events' },
        }),
      ),
    ).toBe(
      'Stop: Ctrl-C, or kill 4242: the API, drain and relay stop, then the local Kafka broker and the embedded Postgres this start launched.',
    );
  });

  it('DATABASE_URL and KAFKA_BROKERS (a second instance): only the API, drain and relay', () => {
    expect(stopLine(info({}))).toBe('Stop: Ctrl-C, or kill 4242: the API, drain and relay stop.');
  });

  it('no KAFKA_BROKERS but no broker either (the Kafka leg off): no broker is named', () => {
    expect(stopLine(info({ kafka: { brokers: null, local: true, topic: 'sluice.events' } }))).toBe(
      'Stop: Ctrl-C, or kill 4242: the API, drain and relay stop.',
    );
  });
});
