// agentbox's guest SDK for JavaScript: a tool in a few lines, built into a
// WebAssembly component by componentize-js (see docs/guests.md).
//
//   import { tool, fetch, log } from './agentbox.js';
//   export const { describe, call } = tool({
//     name: 'hello', description: 'Greets someone.',
//     inputSchema: { type: 'object', properties: { name: { type: 'string' } } },
//     call: ({ name }) => ({ greeting: `Hello, ${name}!` }),
//   });
//
// Outbound HTTP goes through the host (agentbox:tool/http): only to destinations
// the manifest grants, with secrets injected by the host — the tool never sees
// them. There is no other network.

import { fetch as hostFetch } from 'agentbox:tool/http@0.1.0';
import { log as hostLog } from 'agentbox:tool/log@0.1.0';

/** A request the host did not make or that failed: `kind` is `denied`,
 * `invalid-request`, `timeout`, `too-large` or `transport`. */
export class HttpError extends Error {
  constructor(kind, reason) {
    super(reason ? `${kind}: ${reason}` : kind);
    this.kind = kind;
    this.reason = reason ?? '';
  }
}

/** What the host answered. */
export class Response {
  constructor(raw) {
    this.status = raw.status;
    this.headers = {};
    for (const h of raw.headers) this.headers[h.name.toLowerCase()] = h.value;
    this.body = raw.body;
  }
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  text() {
    return new TextDecoder().decode(this.body);
  }
  json() {
    return JSON.parse(this.text());
  }
}

/** One HTTP request through the host. `headers` is an object; a value may hold
 * `{{secret:NAME}}`, which the host fills in where the manifest allows. A
 * `timeoutMs` of 0 or none means the tool's own limit. Throws HttpError when the
 * request is denied or fails. */
export function fetch(url, { method = 'GET', headers = {}, body, timeoutMs } = {}) {
  const request = {
    method,
    url,
    headers: Object.entries(headers).map(([name, value]) => ({ name, value: String(value) })),
    body: body === undefined ? undefined : typeof body === 'string' ? new TextEncoder().encode(body) : body,
    timeoutMs: timeoutMs || undefined,
  };
  try {
    return new Response(hostFetch(request));
  } catch (e) {
    const p = e && e.payload !== undefined ? e.payload : e;
    if (p && typeof p === 'object' && 'tag' in p) throw new HttpError(p.tag, p.val);
    throw new HttpError('transport', String(p));
  }
}

/** Log lines, recorded in the audit log (and sent to an MCP client that asked). */
export const log = {
  debug: (m) => hostLog('debug', String(m)),
  info: (m) => hostLog('info', String(m)),
  warn: (m) => hostLog('warn', String(m)),
  error: (m) => hostLog('error', String(m)),
};

/** The two exports agentbox calls, from a name, a description, the input's JSON
 * Schema (what `agentbox mcp` lists), optionally the result's, and a function from
 * the parsed input to a JSON-able result. Throwing (an Error or a string) is the
 * tool's error. The function is synchronous: host calls block, there is no event
 * loop between calls. */
export function tool({ name, description, inputSchema = { type: 'object' }, outputSchema, call }) {
  const info = { name, description, input_schema: inputSchema };
  if (outputSchema !== undefined) info.output_schema = outputSchema;
  return {
    describe: () => JSON.stringify(info),
    call: (input) => {
      let args;
      try {
        args = JSON.parse(input);
      } catch (e) {
        throw `the input is not JSON: ${e.message}`;
      }
      let out;
      try {
        out = call(args);
      } catch (e) {
        throw e instanceof Error ? e.message || e.name : String(e);
      }
      if (out && typeof out.then === 'function') {
        throw 'the tool returned a Promise: write `call` as a plain (synchronous) function';
      }
      return JSON.stringify(out === undefined ? null : out);
    },
  };
}
