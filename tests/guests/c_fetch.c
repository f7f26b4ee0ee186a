/* c_fetch: the C guest SDK's HTTP call, for the tests. Input: {"url": "...",
 * "header": "value of X-Probe"}; output: {"status": N, "body": "..."} or
 * {"error": "kind", "reason": "..."}. */
#include "agentbox_tool.h"

AGENTBOX_DESCRIBE("c_fetch", "Fetches one URL through the host.",
    "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},\"header\":{\"type\":\"string\"}},\"required\":[\"url\"]}",
    NULL)

int agentbox_call(const char *input, size_t len, char **out, size_t *out_len) {
    char url[1024], probe[256];
    if (agentbox_json_string(input, len, "url", url, sizeof url) < 0) {
        return agentbox_error(out, out_len, "input needs a string field `url`");
    }
    if (agentbox_json_string(input, len, "header", probe, sizeof probe) < 0) strcpy(probe, "none");
    struct agentbox_header h[2] = {AGENTBOX_HEADER("Accept", "text/plain"), {"X-Probe", 7, probe, strlen(probe)}};
    struct agentbox_response r;
    char text[2048], esc[8192];
    if (agentbox_http_fetch("GET", url, h, 2, NULL, 0, 5000, &r) == 0) {
        size_t n = r.body_len < sizeof text - 1 ? r.body_len : sizeof text - 1;
        memcpy(text, r.body, n);
        text[n] = 0;
        agentbox_json_escape(esc, sizeof esc, text);
        size_t cap = strlen(esc) + 64;
        *out = malloc(cap);
        if (!*out) return 1;
        *out_len = (size_t)snprintf(*out, cap, "{\"status\":%d,\"headers\":%zu,\"body\":\"%s\"}", r.status, r.headers_len, esc);
    } else {
        size_t n = r.error_len < sizeof text - 1 ? r.error_len : sizeof text - 1;
        if (n) memcpy(text, r.error, n);
        text[n] = 0;
        agentbox_json_escape(esc, sizeof esc, text);
        size_t cap = strlen(esc) + 96;
        *out = malloc(cap);
        if (!*out) return 1;
        *out_len = (size_t)snprintf(*out, cap, "{\"error\":\"%s\",\"reason\":\"%s\"}", r.error_kind, esc);
    }
    agentbox_response_free(&r);
    return 0;
}
