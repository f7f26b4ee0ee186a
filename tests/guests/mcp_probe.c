/* mcp_probe: a kind-tool guest for the `agentbox mcp` tests. Input {"op": ..., "text": ..., "n": ...}:
 *   echo    -> {"text": TEXT}
 *   fail    -> Err("failed on purpose: TEXT")
 *   log     -> N log lines "line I" (info), then {"logged": N}
 *   spin    -> loops until the time limit or a cancellation; with N > 0, N million
 *              iterations, then {"spun": N}
 *   garbage -> Ok text that is not JSON, with control bytes (a terminal escape, BEL, NUL)
 *   trap    -> traps
 *   big     -> Ok with N bytes of JSON string (over the output limit when N is large) */
#include "agentbox_tool.h"

AGENTBOX_DESCRIBE("mcp_probe", "Test probe: echoes, fails, logs, spins, traps on request.",
    "{\"type\":\"object\",\"properties\":{"
    "\"op\":{\"type\":\"string\",\"enum\":[\"echo\",\"fail\",\"log\",\"spin\",\"garbage\",\"trap\",\"big\"]},"
    "\"text\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"required\":[\"op\"],\"additionalProperties\":false}",
    NULL)

static long json_int(const char *input, size_t len, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = NULL;
    for (size_t i = 0; i + strlen(pat) <= len; i++)
        if (strncmp(input + i, pat, strlen(pat)) == 0) { p = input + i + strlen(pat); break; }
    if (!p) return 0;
    while (*p == ' ' || *p == ':') p++;
    return strtol(p, NULL, 10);
}

static volatile unsigned long spins;

int agentbox_call(const char *input, size_t len, char **out, size_t *out_len) {
    char op[32], text[1024];
    if (agentbox_json_string(input, len, "op", op, sizeof op) < 0) op[0] = 0;
    if (agentbox_json_string(input, len, "text", text, sizeof text) < 0) text[0] = 0;
    long n = json_int(input, len, "n");
    char esc[7 * sizeof text];
    agentbox_json_escape(esc, sizeof esc, text);
    size_t cap = strlen(esc) + 64;
    if (strcmp(op, "big") == 0) cap = (size_t)n + 64;
    *out = malloc(cap);
    if (!*out) return 1;
    if (strcmp(op, "echo") == 0) {
        *out_len = (size_t)snprintf(*out, cap, "{\"text\":\"%s\"}", esc);
        return 0;
    }
    if (strcmp(op, "fail") == 0) {
        *out_len = (size_t)snprintf(*out, cap, "failed on purpose: %s", text);
        return 1;
    }
    if (strcmp(op, "log") == 0) {
        for (long i = 0; i < n; i++) {
            char line[32];
            snprintf(line, sizeof line, "line %ld", i);
            agentbox_log(AGENTBOX_INFO, line);
        }
        *out_len = (size_t)snprintf(*out, cap, "{\"logged\":%ld}", n);
        return 0;
    }
    if (strcmp(op, "spin") == 0) {
        if (n <= 0) for (;;) spins++;
        for (long i = 0; i < n * 1000000L; i++) spins++;
        *out_len = (size_t)snprintf(*out, cap, "{\"spun\":%ld}", n);
        return 0;
    }
    if (strcmp(op, "garbage") == 0) {
        static const char g[] = "\x1b]0;pwned\x07 not json \x00 at all";
        memcpy(*out, g, sizeof g - 1);
        *out_len = sizeof g - 1;
        return 0;
    }
    if (strcmp(op, "trap") == 0) __builtin_trap();
    if (strcmp(op, "big") == 0) {
        (*out)[0] = '"';
        memset(*out + 1, 'x', (size_t)n);
        (*out)[n + 1] = '"';
        *out_len = (size_t)n + 2;
        return 0;
    }
    *out_len = (size_t)snprintf(*out, cap, "unknown op");
    return 1;
}
