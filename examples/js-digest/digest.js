// js-digest: a digest of a GitHub repository's open issues and pull requests —
// how many of each, who opened them, the newest titles. The manifest lets the
// host inject GITHUB_TOKEN into requests to https://api.github.com/repos only;
// this code never sees it.

import { tool, fetch, log } from '../../guest-sdk/js/agentbox.js';

const part = /^[A-Za-z0-9_.-]{1,100}$/;

export const { describe, call } = tool({
  name: 'js_digest',
  description: "A digest of a GitHub repository's open issues and pull requests.",
  inputSchema: {
    type: 'object',
    properties: {
      repo: { type: 'string', description: 'owner/name' },
      limit: { type: 'integer', minimum: 1, maximum: 100 },
    },
    required: ['repo'],
  },
  call({ repo, limit = 30 }) {
    const [owner, name, ...rest] = String(repo ?? '').split('/');
    if (rest.length || !part.test(owner ?? '') || !part.test(name ?? '') || [owner, name].some((p) => p === '.' || p === '..')) {
      throw '`repo` must be owner/name with letters, digits, - _ .';
    }
    const n = Math.min(Math.max(Number.parseInt(limit, 10) || 30, 1), 100);
    const res = fetch(`https://api.github.com/repos/${owner}/${name}/issues?state=open&per_page=${n}`, {
      headers: { Accept: 'application/vnd.github+json', 'User-Agent': 'agentbox-js-digest' },
      timeoutMs: 10000,
    });
    if (!res.ok) throw `GitHub answered ${res.status}`;
    const items = res.json();
    if (!Array.isArray(items)) throw "GitHub's answer is not a list";
    const issues = items.filter((i) => !i.pull_request);
    const authors = {};
    for (const i of items) {
      const who = i.user?.login ?? 'unknown';
      authors[who] = (authors[who] ?? 0) + 1;
    }
    log.info(`${issues.length} issue(s), ${items.length - issues.length} pull request(s) open in ${owner}/${name}`);
    return {
      repo: `${owner}/${name}`,
      open_issues: issues.length,
      open_pull_requests: items.length - issues.length,
      authors,
      newest_issues: issues.slice(0, 5).map((i) => ({ number: i.number, title: i.title })),
    };
  },
});
