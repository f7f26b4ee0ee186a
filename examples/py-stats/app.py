"""py-stats: text statistics, a Python tool for agentbox, written with the Python
guest SDK (guest-sdk/python/agentbox_tool.py) and built by componentize-py.

Input:  {"text": "..."}   Output: {"characters": n, "words": n, "lines": n, "top_words": [[w, n], ...]}
"""
from agentbox_tool import ToolError, log, tool


def top_words(words, n):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def stats(args):
    text = args.get("text") if isinstance(args, dict) else None
    if not isinstance(text, str):
        raise ToolError("input needs a string field `text`")
    words = [w.strip(".,;:!?\"'()[]").lower() for w in text.split()]
    words = [w for w in words if w]
    log.info(f"py-stats counted {len(words)} words")
    return {
        "characters": len(text),
        "words": len(words),
        "lines": text.count("\n") + (1 if text and not text.endswith("\n") else 0),
        "top_words": top_words(words, 3),
    }


WitWorld = tool(
    "py-stats",
    "Counts characters, words and lines of a text and lists its most common words.",
    {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    stats,
)
