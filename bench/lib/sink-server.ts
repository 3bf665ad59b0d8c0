// A loopback HTTP sink in its own process (so it does not share the event loop with what is measured):
// answers 200 at once and reports how many requests it saw. Prints its port on stdout.
import { createServer } from 'node:http';

let count = 0;
const server = createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    count++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
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
