// A loopback HTTP sink in its own process (so it does not share the event loop with what is measured):
// answers 200 at once and reports how many requests it saw. Prints its port on stdout.
import { createServer } from 'node:http';

let count = 0;
const server = createServer((req, res) => {
  // sObject Collections (the salesforce connector) get one success per record, as the real API answers.
  const composite = req.url?.includes('/composite/sobjects') ?? false;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => composite && chunks.push(c));
  req.on('end', () => {
    count++;
    if (!composite) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const { records } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { records: unknown[] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(records.map((_, i) => ({ id: `001${i}`, success: true, errors: [] }))));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('message', (msg) => {
  if (msg === 'count') process.send?.({ count });
  if (msg === 'reset') count = 0;
});
