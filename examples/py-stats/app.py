"""py-stats: text statistics, a Python tool for agentbox (componentize-py).

Input:  {"text": "..."}   Output: {"characters": n, "words": n, "lines": n, "top_words": [[w, n], ...]}
"""
import json

import wit_world
from wit_world.imports import log
from componentize_py_types import Err


def top_words(words, n):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


class WitWorld(wit_world.WitWorld):
    def describe(self) -> str:
        return json.dumps({
            "name": "py-stats",
            "description": "Counts characters, words and lines of a text and lists its most common words.",
            "input_schema": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        })

    def call(self, input: str) -> str:
        try:
            args = json.loads(input)
        except ValueError as e:
            raise Err(f"input is not JSON: {e}")
        text = args.get("text") if isinstance(args, dict) else None
        if not isinstance(text, str):
            raise Err("input needs a string field `text`")
        words = [w.strip(".,;:!?\"'()[]").lower() for w in text.split()]
        words = [w for w in words if w]
        log.log(log.Level.INFO, f"py-stats counted {len(words)} words")
        return json.dumps({
            "characters": len(text),
            "words": len(words),
            "lines": text.count("\n") + (1 if text and not text.endswith("\n") else 0),
            "top_words": top_words(words, 3),
        })
