/* hello: the smallest useful agentbox tool. JSON in, JSON out, no grants at all. */
#include "agentbox_tool.h"

AGENTBOX_DESCRIBE("hello", "Greets someone by name.",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}",
    "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\"}},\"required\":[\"greeting\"]}")

int agentbox_call(const char *input, size_t len, char **out, size_t *out_len) {
    char name[256];
    if (agentbox_json_string(input, len, "name", name, sizeof name) < 0) strcpy(name, "world");
    agentbox_log(AGENTBOX_INFO, "hello was called");
    char esc[1600];
    agentbox_json_escape(esc, sizeof esc, name);
    size_t cap = strlen(esc) + 64;
    *out = malloc(cap);
    if (!*out) return 1;
    *out_len = (size_t)snprintf(*out, cap, "{\"greeting\":\"Hello, %s!\"}", esc);
    return 0;
}
