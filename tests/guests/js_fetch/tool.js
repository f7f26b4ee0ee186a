// js_fetch: the JavaScript guest SDK's HTTP call, for the tests. Input: {"url": "...",
// "header": "value of X-Probe"}; output: {"status": N, "headers": n, "body": "..."} or
// {"error": "kind", "reason": "..."}.

import { tool, fetch, log, HttpError } from '../../../guest-sdk/js/agentbox.js';

export const { describe, call } = tool({
  name: 'js_fetch',
  description: 'Fetches one URL through the host.',
  inputSchema: { type: 'object', properties: { url: { type: 'string' }, header: { type: 'string' } }, required: ['url'] },
  call({ url, header = 'none' }) {
    try {
      const r = fetch(url, { headers: { Accept: 'text/plain', 'X-Probe': header }, timeoutMs: 5000 });
      log.info(`fetched ${r.body.length} bytes`);
      return { status: r.status, headers: Object.keys(r.headers).length, body: r.text() };
    } catch (e) {
      if (e instanceof HttpError) return { error: e.kind, reason: e.reason };
      throw e;
    }
  },
});
