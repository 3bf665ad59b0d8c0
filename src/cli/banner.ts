import { relative } from 'node:path';
import { styleText } from 'node:util';
import { maskUrl } from '../lib/mask-url';

export interface BannerInfo {
  url: string;
  pid: number;
  instance: string;
  home: string;
  database: { url: string; embedded: boolean };
  kafka: { brokers: string[] | null; local: boolean; topic: string };
  /** `generated`: made by this start (shown once); `file`: made by an earlier start; `env`: SLUICE_API_KEYS. */
  apiKey: { source: 'generated' | 'file' | 'env'; key?: string; file?: string };
  routes: { count: number; configPath: string | null };
  publicEndpoints: readonly string[];
  color: boolean;
}

const show = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
};

/** A password of the user's own (DATABASE_URL) is masked; the embedded server's is fixed and local, so shown. */
const databaseLine = (d: BannerInfo['database'], home: string) =>
  d.embedded
    ? `${d.url}   (embedded Postgres, data in ${show(`${home}/pg`)})`
    : `${maskUrl(d.url)}   (DATABASE_URL)`;

/** What a stop ends: this process's parts, then the services this start launched (none when it found them). */
function stopsWhat(b: BannerInfo): string {
  const started = [
    b.kafka.local && b.kafka.brokers && 'the local Kafka broker',
    b.database.embedded && 'the embedded Postgres',
  ].filter(Boolean);
  const own = 'the API, drain and relay stop';
  return started.length ? `${own}, then ${started.join(' and ')} this start launched` : own;
}

/** The lines `sluice start` prints once the service is up and its start-up log lines are written. */
export function bannerLines(b: BannerInfo): string[] {
  const bold = (s: string) => (b.color ? styleText('bold', s) : s);
  const warn = (s: string) => (b.color ? styleText(['bold', 'yellow'], s) : s);
  const keyFile = b.apiKey.file ? show(b.apiKey.file) : '';
  const bearer = b.apiKey.source === 'env' ? '<a key from SLUICE_API_KEYS>' : `$(cat ${keyFile})`;
  const auth = `-H "authorization: Bearer ${bearer}"`;
  const keyLine =
    b.apiKey.source === 'generated'
      ? `${b.apiKey.key}   (new: stored in ${keyFile}; shown only this once)`
      : b.apiKey.source === 'file'
        ? `stored in ${keyFile} (made on the first start): cat ${keyFile}`
        : 'from SLUICE_API_KEYS (not shown)';
  const open = (what: string) => b.publicEndpoints.includes(what);
  const docs = open('docs')
    ? `${b.url}/docs   (interactive; the OpenAPI JSON is at ${b.url}/docs/json)`
    : `curl ${auth} ${b.url}/docs/json   (needs the key: SLUICE_PUBLIC_ENDPOINTS does not list docs)`;
  const metrics = open('metrics') ? `${b.url}/metrics` : `curl ${auth} ${b.url}/metrics`;
  const kafka = b.kafka.brokers
    ? `${b.kafka.brokers.join(',')}, topic ${b.kafka.topic}${b.kafka.local ? `   (local broker, data in ${show(`${b.home}/kafka`)})` : ''}`
    : 'OFF: no brokers (KAFKA_BROKERS unset and no local broker); changes are not published';
  const routes =
    b.routes.count === 0
      ? warn(
          'NONE: pushes are accepted and published, but delivered nowhere. Copy sluice.config.example.json to ' +
            'sluice.config.json (or set SLUICE_CONFIG) and restart.',
        )
      : `${b.routes.count} from ${b.routes.configPath ? show(b.routes.configPath) : 'the config'} (reloaded when the file changes, or on SIGHUP)`;
  return [
    '',
    `${bold('Sluice is up')} on ${b.url}   (pid ${b.pid}, instance ${b.instance})`,
    `  dashboard  ${b.url}/   (asks for the API key)`,
    `  API docs   ${docs}`,
    `  metrics    ${metrics}`,
    `  API key    ${keyLine}`,
    `  database   ${databaseLine(b.database, b.home)}`,
    `  kafka      ${kafka}`,
    `  routes     ${routes}`,
    '',
    'Push a change:',
    `  curl -s -X POST ${b.url}/v1/events ${auth} \\`,
    `    -H 'content-type: application/json' -d '{"entity":"account","op":"update","ids":["42"]}'`,
    '',
    `Stop: Ctrl-C, or kill ${b.pid}: ${stopsWhat(b)}.`,
    '',
  ];
}
