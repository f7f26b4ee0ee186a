// {{name}}: an agentbox command in JavaScript: a program with arguments.
// Build: agentbox build .   Run: agentbox run agentbox.toml -- Ada

import { getArguments } from 'wasi:cli/environment@0.2.12';

// wasi:cli/run: what `main` is for a command component.
export const run = {
  run() {
    const args = getArguments(); // the program's name, then the arguments after `--`
    console.log(`Hello, ${args.length > 1 ? args[1] : 'world'}!`); // stdout
  },
};
