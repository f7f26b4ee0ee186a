//! Malformed manifests: each error names file, line, column and key, and says what is
//! allowed. The exact text is checked, through `agentbox check` (and `run`).

mod common;
use common::*;

const CASES: &[(&str, &str)] = &[
    // no version
    (
        "[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:1:1: (top level): required key `version` is missing",
    ),
    // version 2
    (
        "version = 2\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:1:11: version: unsupported manifest version 2; allowed: 1",
    ),
    // version string
    (
        "version = \"1\"\n",
        "agentbox: agentbox.toml:1:11: version: invalid type: string \"1\", expected a whole number",
    ),
    // unknown top key
    (
        "version = 1\nname = \"x\"\n",
        "agentbox: agentbox.toml:2:1: name: unknown key `name`; allowed: `version`, `tools`, `monitor`",
    ),
    // no tools
    (
        "version = 1\n",
        "agentbox: agentbox.toml:1:1: tools: no tools: add at least one [tools.NAME] table",
    ),
    // bad tool name
    (
        "version = 1\n[tools.Fetch]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:2:8: tools.Fetch: invalid tool name `Fetch`; allowed: a lowercase letter, then up to 62 of a-z 0-9 _ -",
    ),
    // unknown tool key
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\ntimeout = \"1s\"\n",
        "agentbox: agentbox.toml:5:1: tools.t.timeout: unknown key `timeout`; allowed: `kind`, `component`, `sha256`, `description`, `rationale`, `profile`, `exec`, `limits`, `fs`, `scratch`, `net`, `secrets`, `env`, `guards`",
    ),
    // bad kind
    (
        "version = 1\n[tools.t]\nkind = \"script\"\ncomponent = \"t.wasm\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:3:8: tools.t.kind: unknown value `script`; allowed: `tool`, `command`, `native`",
    ),
    // missing rationale
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\n",
        "agentbox: agentbox.toml:2:1: tools.t: required key `rationale` is missing: write why this tool exists",
    ),
    // empty rationale
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"  \"\n",
        "agentbox: agentbox.toml:4:13: tools.t.rationale: must not be empty: write why this is granted",
    ),
    // missing component
    (
        "version = 1\n[tools.t]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:2:1: tools.t: required key `component` is missing: kind \"tool\" needs a WebAssembly component file",
    ),
    // component missing file
    (
        "version = 1\n[tools.t]\ncomponent = \"nope.wasm\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:3:13: tools.t.component: component file ./nope.wasm cannot be opened: No such file or directory (os error 2)",
    ),
    // bad sha
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\nsha256 = \"abc\"\n",
        "agentbox: agentbox.toml:5:10: tools.t.sha256: must be 64 hexadecimal digits (the component's SHA-256)",
    ),
    // unknown limit
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\nmemroy = \"1MiB\"\n",
        "agentbox: agentbox.toml:6:1: tools.t.limits.memroy: unknown key `memroy`; allowed: `memory`, `timeout`, `cpu`, `output`, `http_requests`, `http_bytes`, `processes`, `compile_memory`, `compile_timeout`",
    ),
    // bad size
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\nmemory = \"64MB\"\n",
        "agentbox: agentbox.toml:6:10: tools.t.limits.memory: invalid size \"64MB\"; allowed: a whole number followed by B, KiB, MiB or GiB (e.g. \"64MiB\"), or a plain byte count",
    ),
    // bad duration
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\ntimeout = \"10\"\n",
        "agentbox: agentbox.toml:6:11: tools.t.limits.timeout: invalid duration \"10\"; allowed: a whole number followed by ms, s, m or h (e.g. \"10s\", \"500ms\")",
    ),
    // zero timeout
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\ntimeout = \"0s\"\n",
        "agentbox: agentbox.toml:6:11: tools.t.limits.timeout: must be greater than zero",
    ),
    // memory too big
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\nmemory = \"8GiB\"\n",
        "agentbox: agentbox.toml:6:10: tools.t.limits.memory: 8 GiB is over the maximum of 4 GiB",
    ),
    // processes on wasm
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\nprocesses = 4\n",
        "agentbox: agentbox.toml:6:13: tools.t.limits.processes: `processes` is only for kind \"native\" (a tool runs as one process)",
    ),
    // fs missing host dir
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"nope\"\nguest = \"/w\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:8: tools.t.fs[0].host: directory ./nope cannot be resolved: No such file or directory (os error 2); it must exist",
    ),
    // fs relative guest (a preopen name) on a native tool
    (
        "version = 1\n[tools.t]\nkind = \"native\"\nexec = [\"/bin/true\"]\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"w\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:8:9: tools.t.fs[0].guest: `w` is a preopen name, which only wasm tools have; allowed for kind \"native\": an absolute path other than /, e.g. /workspace",
    ),
    // fs guest / on a native tool
    (
        "version = 1\n[tools.t]\nkind = \"native\"\nexec = [\"/bin/true\"]\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:8:9: tools.t.fs[0].guest: `/` is a preopen name, which only wasm tools have; allowed for kind \"native\": an absolute path other than /, e.g. /workspace",
    ),
    // fs guest where agentbox mounts named preopens
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/.agentbox-preopen/x\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:9: tools.t.fs[0].guest: `/.agentbox-preopen/x` is inside /.agentbox-preopen, where agentbox mounts grants named / or by a relative name; allowed: any other absolute path",
    ),
    // fs empty guest
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:9: tools.t.fs[0].guest: must not be empty; allowed: an absolute path such as /workspace, or a preopen name such as data",
    ),
    // fs relative guest with ..
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"a/../b\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:9: tools.t.fs[0].guest: `a/../b` must not contain `.` or `..`",
    ),
    // fs dotdot guest
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/a/../b\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:9: tools.t.fs[0].guest: `/a/../b` must not contain `.` or `..`",
    ),
    // scratch inside an fs grant
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/w\"\naccess = \"rw\"\nrationale = \"r\"\n[[tools.t.scratch]]\nguest = \"/w/tmp\"\nsize = \"1MiB\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:11:9: tools.t.scratch[0].guest: scratch path /w/tmp overlaps /w; allowed: a path of its own, neither inside nor above another grant or a directory the sandbox provides (/proc, /dev, /sys, /tmp, /usr, /bin, /sbin, /lib*, /etc, /run, /var)",
    ),
    // scratch on a path the sandbox mounts itself
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.scratch]]\nguest = \"/tmp\"\nsize = \"1MiB\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.scratch[0].guest: scratch path /tmp overlaps /tmp; allowed: a path of its own, neither inside nor above another grant or a directory the sandbox provides (/proc, /dev, /sys, /tmp, /usr, /bin, /sbin, /lib*, /etc, /run, /var)",
    ),
    // scratch without size
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.scratch]]\nguest = \"/s\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:5:1: tools.t.scratch[0]: required key `size` is missing",
    ),
    // scratch files out of range
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.scratch]]\nguest = \"/s\"\nsize = \"1MiB\"\nfiles = 0\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:8:9: tools.t.scratch[0].files: 0 is out of range; allowed: 1 to 1000000 (files and directories it may hold)",
    ),
    // scratch with a host directory
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.scratch]]\nhost = \"ws\"\nguest = \"/s\"\nsize = \"1MiB\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:1: tools.t.scratch[0].host: unknown key `host`; allowed: `guest`, `size`, `files`, `rationale`",
    ),
    // scratch over the size bound
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.scratch]]\nguest = \"/s\"\nsize = \"8GiB\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:8: tools.t.scratch[0].size: 8 GiB is over the maximum of 4 GiB",
    ),
    // fs bad access
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/w\"\naccess = \"write\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:8:10: tools.t.fs[0].access: unknown value `write`; allowed: `ro` or `rw`",
    ),
    // fs missing rationale
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/w\"\naccess = \"ro\"\n",
        "agentbox: agentbox.toml:5:1: tools.t.fs[0]: required key `rationale` is missing",
    ),
    // fs duplicate guest
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/w\"\naccess = \"ro\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/w/\"\naccess = \"rw\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:12:9: tools.t.fs[1].guest: guest path /w is already granted (host /tmp/me/ws); each guest path once",
    ),
    // net userinfo
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://u:p@x.org\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.net[0].allow: `https://u:p@x.org`: must not contain user info (`user@`); allowed: scheme://host[:port][/path-prefix] with scheme http or https, host a DNS name, `*.suffix`, an IPv4 address or a bracketed IPv6 address, and no user info, query or fragment",
    ),
    // net ftp
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"ftp://x.org\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.net[0].allow: `ftp://x.org`: scheme `ftp` is not allowed; allowed: scheme://host[:port][/path-prefix] with scheme http or https, host a DNS name, `*.suffix`, an IPv4 address or a bracketed IPv6 address, and no user info, query or fragment",
    ),
    // net bad wildcard
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://a*.x.org\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.net[0].allow: `https://a*.x.org`: `*` is allowed only as the whole first label (`*.example.com`); allowed: scheme://host[:port][/path-prefix] with scheme http or https, host a DNS name, `*.suffix`, an IPv4 address or a bracketed IPv6 address, and no user info, query or fragment",
    ),
    // net bad method
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://x.org\"\nmethods = [\"GET\", \"CONNECT\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:19: tools.t.net[0].methods: unknown method `CONNECT`; allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    ),
    // net octal ip
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"http://0177.0.0.1\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.net[0].allow: `http://0177.0.0.1`: `0177.0.0.1` is not a DNS name or a canonical dotted-quad IPv4 address; allowed: scheme://host[:port][/path-prefix] with scheme http or https, host a DNS name, `*.suffix`, an IPv4 address or a bracketed IPv6 address, and no user info, query or fragment",
    ),
    // secret not covered
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://api.x.org\"\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"https://evil.org\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:10:10: tools.t.secrets[0].allow[0]: `https://evil.org` is not covered by any net grant of tool `t`; a secret may only go where the tool may connect",
    ),
    // secret over cleartext http (even where the tool may connect over http)
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"http://api.x.org\"\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"http://api.x.org/v1\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:10:10: tools.t.secrets[0].allow[0]: `http://api.x.org/v1`: a secret may not be sent over http:// (cleartext); secrets travel only over verified TLS: allowed: https://NAME[:port][/path-prefix] with NAME a DNS name or `*.suffix`",
    ),
    // secret to an IP literal, even over https (the second rule of the list)
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://api.x.org\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://[fd00::1]:8443\"\nprivate = true\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"https://api.x.org\", \"https://[fd00::1]:8443\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:14:31: tools.t.secrets[0].allow[1]: `https://[fd00::1]:8443`: a secret may not be sent to an IP literal; secrets travel only over verified TLS: allowed: https://NAME[:port][/path-prefix] with NAME a DNS name or `*.suffix`",
    ),
    // secret bad name
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"token\"\nallow = [\"https://x.org\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:8: tools.t.secrets[0].name: invalid secret name `token`; allowed: upper-case letters, digits and _, not starting with a digit",
    ),
    // secret format without braces
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://x.org\"\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"T\"\nallow = [\"https://x.org\"]\nheader = \"Authorization\"\nformat = \"Bearer\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:12:10: tools.t.secrets[0].format: must contain `{}` exactly once, where the value goes (e.g. \"Bearer {}\")",
    ),
    // env secret placeholder
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.env]\nTOKEN = \"{{secret:T}}\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.env.TOKEN: secrets never enter the sandbox's environment; use a [[secrets]] grant with `header`",
    ),
    // env bad name
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.env]\n\"1X\" = \"a\"\n",
        "agentbox: agentbox.toml:6:1: tools.t.env.1X: invalid variable name; allowed: letters, digits and _, not starting with a digit",
    ),
    // native with component
    (
        "version = 1\n[tools.n]\nkind = \"native\"\ncomponent = \"t.wasm\"\nexec = [\"/usr/bin/true\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:4:13: tools.n.component: `component` is not allowed for kind \"native\"; give the program with `exec`",
    ),
    // native relative exec
    (
        "version = 1\n[tools.n]\nkind = \"native\"\nexec = [\"python3\", \"x.py\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:4:9: tools.n.exec[0]: program `python3` must be an absolute path (no PATH lookup in the sandbox)",
    ),
    // native missing exec
    (
        "version = 1\n[tools.n]\nkind = \"native\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:2:1: tools.n: required key `exec` is missing: kind \"native\" needs argv, e.g. [\"/usr/bin/python3\", \"main.py\"]",
    ),
    // exec on tool
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\nexec = [\"/bin/sh\"]\n",
        "agentbox: agentbox.toml:5:8: tools.t.exec: `exec` is only for kind \"native\"; kind \"tool\" runs `component`",
    ),
    // unknown profile
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\nprofile = \"permissive\"\n",
        "agentbox: agentbox.toml:5:11: tools.t.profile: unknown profile `permissive`; allowed: wasm-worker, native",
    ),
    // toml syntax
    (
        "version = 1\n[tools.t\n",
        "agentbox: agentbox.toml:2:9: tools.t: unclosed table, expected `]`",
    ),
    // wrong type
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[tools.t.limits]\nhttp_requests = \"many\"\n",
        "agentbox: agentbox.toml:6:17: tools.t.limits.http_requests: invalid type: string \"many\", expected a whole number",
    ),
    // foot-gun grants (breakout SUP-08)
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \"/proc\"\nguest = \"/p\"\naccess = \"ro\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:8: tools.t.fs[0].host: /proc is in a kernel filesystem; allowed: a directory of its own (a project or data directory), never /, /proc, /sys, /dev, /run or a home directory or one above it",
    ),
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[tools.t.net]]\nallow = \"https://*.com\"\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:9: tools.t.net[0].allow: `https://*.com`: wildcard `*.com` covers a public suffix, where anyone can register a host; allowed: a wildcard under a domain you control (`*.example.com`)",
    ),
    // monitor: a condition it cannot read
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"denials > 5 per 1m\"\ndo = [\"alert\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:8: monitor.rules[0].when: cannot read `denials > 5 per 1m`; allowed: `METRIC > N in DURATION` (METRIC one of calls, denials, errors, secret_uses, guard_findings, bytes_sent, bytes_received), `new_destination`, `secret_to_new_destination`, `guard:KIND` (secrets, pii, injection, hidden_text or *), or `anomaly > X`",
    ),
    // monitor: a rule for a tool that does not exist
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"denials > 5 in 1m\"\ntools = [\"fetch*\"]\ndo = [\"alert\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:10: monitor.rules[0].tools: `fetch*` matches no tool; tools: t",
    ),
    // monitor: revoking a secret no tool has
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"guard:secrets\"\ndo = [\"alert\", \"revoke GITHUB_TOKEN\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:16: monitor.rules[0].do: no tool is granted the secret `GITHUB_TOKEN`; granted: none",
    ),
    // monitor: an unknown response
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"guard:secrets\"\ndo = [\"reboot\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:7:7: monitor.rules[0].do: cannot read `reboot`; allowed: alert, pause DURATION, revoke SECRET, kill, stop",
    ),
    // monitor: anomaly without a baseline
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"anomaly > 3.0\"\ndo = [\"alert\"]\nrationale = \"r\"\n",
        "agentbox: agentbox.toml:6:8: monitor.rules[0].when: an anomaly rule needs `baseline = \"FILE\"` in [monitor] (written by `agentbox audit baseline`)",
    ),
    // monitor: a rule without a rationale
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[[monitor.rules]]\nwhen = \"guard:pii\"\ndo = [\"kill\"]\n",
        "agentbox: agentbox.toml:5:1: monitor.rules[0]: required key `rationale` is missing: write why this rule exists",
    ),
    // monitor: an unknown key
    (
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n[monitor]\nbaseline = \"b.json\"\nwatch = true\n",
        "agentbox: agentbox.toml:7:1: monitor.watch: unknown key `watch`; allowed: `baseline` or `rules`",
    ),
];

#[test]
fn every_malformed_manifest_has_its_exact_error() {
    assert!(CASES.len() >= 20);
    let sb = Sandbox::new();
    sb.write("t.wasm", "");
    std::fs::create_dir_all(sb.path("ws")).expect("ws");
    let mut failures = Vec::new();
    for (text, expected) in CASES {
        sb.manifest(text);
        let expected = expected.replace(
            "/tmp/me/ws",
            &std::fs::canonicalize(sb.path("ws"))
                .expect("ws")
                .display()
                .to_string(),
        );
        let out = sb.run(&["check", "agentbox.toml"]);
        if out.code != 125 || out.stderr.trim_end() != expected || !out.stdout.is_empty() {
            failures.push(format!(
                "manifest:\n{text}\nexpected: {expected}\n     got: {} (status {})",
                out.stderr.trim_end(),
                out.code
            ));
        }
        // `run` refuses the same manifest with the same message and status 125.
        let out = sb.run(&["run", "agentbox.toml"]);
        if out.code != 125 || out.stderr.trim_end() != expected {
            failures.push(format!(
                "run: expected {expected}, got {} ({})",
                out.stderr.trim_end(),
                out.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn missing_manifest_file() {
    let sb = Sandbox::new();
    let out = sb.run(&["check", "nope.toml"]);
    assert_eq!(out.code, 125);
    assert_eq!(
        out.stderr,
        "agentbox: nope.toml: cannot read manifest: No such file or directory (os error 2)\n"
    );
}

#[test]
fn not_utf8() {
    let sb = Sandbox::new();
    sb.write_bytes("agentbox.toml", b"version = 1\n\xff\xfe");
    let out = sb.run(&["check", "agentbox.toml"]);
    assert_eq!(out.code, 125);
    assert_eq!(
        out.stderr,
        "agentbox: agentbox.toml:1:1: (top level): the file is not UTF-8 (invalid byte at offset 12)\n"
    );
}

#[test]
fn check_prints_grants_and_warns_on_broad_ones() {
    let sb = Sandbox::new();
    sb.write("t.wasm", "");
    sb.manifest(concat!(
        "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"does things\"\n",
        "[[tools.t.fs]]\nhost = \"/etc\"\nguest = \"/host\"\naccess = \"rw\"\nrationale = \"everything\"\n",
        "[[tools.t.net]]\nallow = \"https://*.example.com\"\nrationale = \"any example host\"\n",
        "[[tools.t.net]]\nallow = \"http://10.0.0.1:8080/api\"\nmethods = [\"post\"]\nprivate = true\nrationale = \"internal api\"\n",
        "[[tools.t.net]]\nallow = \"https://internal.example.test:8443/api\"\nmethods = [\"post\"]\nrationale = \"internal api\"\n",
        "[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"https://internal.example.test:8443/api/v1\"]\nheader = \"Authorization\"\nformat = \"Bearer {}\"\nrationale = \"auth\"\n",
        "[tools.t.limits]\nmemory = \"2GiB\"\ntimeout = \"1h\"\n",
    ));
    let out = sb.run(&["check", "agentbox.toml"]);
    assert_eq!(out.code, 0, "{out:?}");
    for want in [
        "tool t (kind tool, profile wasm-worker)",
        "rationale:   does things",
        "fs      /etc -> /host",
        "everything",
        "net     https://*.example.com",
        "any example host",
        "http://10.0.0.1:8080/api",
        "POST private",
        "secret  TOKEN -> https://internal.example.test:8443/api/v1",
        "header Authorization",
        "warning: tools.t.fs[0]: grants a system directory (/etc) read-write",
        "warning: tools.t.net[1]: private = true: this rule may reach loopback, private networks and link-local addresses",
        "warning: tools.t.limits: memory limit 2 GiB is very large",
        "warning: tools.t.limits: timeout 3600s is very long",
    ] {
        assert!(
            out.stdout.contains(want),
            "missing `{want}` in:\n{}",
            out.stdout
        );
    }
}

/// No fs grant may cover agentbox's own directories (compile cache, state,
/// configuration): above, equal or inside, read-only or read-write.
#[test]
fn grants_covering_agentboxs_own_directories_are_refused() {
    let sb = Sandbox::new();
    for d in [
        "xc/agentbox/components",
        "xs/agentbox",
        "xg/agentbox",
        "data",
        "cache/c",
    ] {
        std::fs::create_dir_all(sb.path(d)).expect("mkdir");
    }
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    let check = |host: &str, access: &str| {
        sb.manifest(&tool_manifest(
            "t.wasm",
            &format!(
                "[[tools.t.fs]]\nhost = \"{host}\"\nguest = \"/d\"\naccess = \"{access}\"\nrationale = \"r\"\n"
            ),
        ));
        let o = sb
            .cmd()
            .env("XDG_CACHE_HOME", sb.path("xc"))
            .env("XDG_STATE_HOME", sb.path("xs"))
            .env("XDG_CONFIG_HOME", sb.path("xg"))
            .args(["run", "agentbox.toml", "--input", "{}"])
            .output()
            .expect("run");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    for (host, what) in [
        ("xc", "agentbox's cache directory"),
        ("xc/agentbox/components", "agentbox's cache directory"),
        ("xs", "agentbox's state directory"),
        ("xg/agentbox", "agentbox's configuration directory"),
        ("cache", "agentbox's compile cache (AGENTBOX_CACHE_DIR)"),
        (".", "agentbox's compile cache (AGENTBOX_CACHE_DIR)"),
    ] {
        for access in ["ro", "rw"] {
            let (code, err) = check(host, access);
            assert_eq!(code, 125, "{host} {access}: {err}");
            assert!(
                err.contains("agentbox.toml:7:8: tools.t.fs[0].host:") && err.contains(what),
                "{host} {access}: {err}"
            );
        }
    }
    let (code, err) = check("data", "rw");
    assert_eq!(code, 0, "a sibling directory is fine: {err}");
}
