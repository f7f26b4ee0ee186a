/* {{name}}: an agentbox tool in C. JSON in, JSON out.
 * Build: agentbox build .   Run: agentbox run agentbox.toml --input '{"name": "Ada"}' */
#include "agentbox_tool.h"

AGENTBOX_DESCRIBE("{{name}}", "Greets someone by name.",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}",
    "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\"}},\"required\":[\"greeting\"]}")

int agentbox_call(const char *input, size_t len, char **out, size_t *out_len) {
    char name[256];
    if (agentbox_json_string(input, len, "name", name, sizeof name) < 0) {
        return agentbox_error(out, out_len, "input needs a string field `name`");
    }
    agentbox_log(AGENTBOX_INFO, "greeting someone");
    char esc[1600];
    agentbox_json_escape(esc, sizeof esc, name);
    size_t cap = strlen(esc) + 64;
    *out = malloc(cap);
    if (!*out) return 1;
    *out_len = (size_t)snprintf(*out, cap, "{\"greeting\":\"Hello, %s!\"}", esc);
    return 0;
}
