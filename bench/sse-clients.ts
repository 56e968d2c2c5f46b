import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The sse part's clients of `GET /api/v1/events`, on a worker thread of the bench (see ClientsThread
 * in bench/sse.ts): they connect, say so, and answer each message of the bench with how many
 * (client, job) pairs still lack a final status.
 */
/** One client of the live stream of every job's changes: the last status it received for each job. */
class EventsClient {
  readonly lastStatus = new Map<string, string>();
  messages = 0;
  readonly connected: Promise<void>;

  constructor(url: string, token: string) {
    let buffered = '';
    let connected!: () => void;
    let failed!: (error: Error) => void;
    this.connected = new Promise((resolve, reject) => {
      connected = resolve;
      failed = reject;
    });
    // Each client on its own connection, as browsers' EventSources are.
    const request = http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) failed(new Error(`GET /api/v1/events: ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          this.read(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
        }
        connected();
      });
      res.on('error', () => undefined);
    });
    request.on('error', failed);
  }

  /**
   * Reads the job and its status by their keys rather than with `JSON.parse`: in a string value a
   * quote is escaped, so `,"status":"` after `"job":{` can only be the job's status. Parsing every
   * message whole cost this thread about as many CPU seconds as the HTTP API spent sending them, on
   * the cores the bench compares the command rate on.
   */
  private read(message: string): void {
    const data = message.indexOf('data: {"jobId":"');
    if (data < 0) return;
    const idStart = data + 'data: {"jobId":"'.length;
    const jobId = message.slice(idStart, message.indexOf('"', idStart));
    const statusStart = message.indexOf(',"status":"', message.indexOf('"job":{', idStart)) + ',"status":"'.length;
    this.messages += 1;
    this.lastStatus.set(jobId, message.slice(statusStart, message.indexOf('"', statusStart)));
  }

  /** The jobs among `jobIds` whose last message received is not in `status`. */
  missing(jobIds: readonly string[], status: string): number {
    return jobIds.filter((jobId) => this.lastStatus.get(jobId) !== status).length;
  }
}

const { url, token, count } = workerData as { url: string; token: string; count: number };
const port = parentPort!;
const clients = Array.from({ length: count }, () => new EventsClient(url, token));
Promise.all(clients.map((client) => client.connected)).then(
  () => port.postMessage({ type: 'connected' }),
  (error: Error) => port.postMessage({ type: 'failed', message: error.message }),
);
port.on('message', ({ jobIds, status }: { jobIds: string[]; status: string }) => {
  port.postMessage({
    type: 'count',
    missing: clients.reduce((sum, client) => sum + client.missing(jobIds, status), 0),
    messages: clients.reduce((sum, client) => sum + client.messages, 0),
  });
});
