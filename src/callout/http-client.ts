import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

/**
 * One axios instance per route: keep-alive sockets sized to the route's concurrency, no status-based
 * throws. No axios `timeout`: each request carries an AbortSignal (route-caller.ts) that destroys the socket.
 */
export function createHttpClient(concurrency: number): AxiosInstance {
  const agentOpts = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
  return axios.create({
    httpAgent: new http.Agent(agentOpts),
    httpsAgent: new https.Agent(agentOpts),
    // The callout layer classifies every status itself.
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: 10 * 1024 * 1024,
  });
}
