// {{name}}: an agentbox tool in JavaScript. JSON in, JSON out.
// Build: agentbox build .   Run: agentbox run agentbox.toml --input '{"name": "Ada"}'

import { tool, log } from './agentbox.js';

export const { describe, call } = tool({
  name: '{{name}}',
  description: 'Greets someone by name.',
  inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  call({ name }) {
    if (typeof name !== 'string') throw 'input needs a string field `name`';
    log.info('greeting someone');
    return { greeting: `Hello, ${name}!` };
  },
});
