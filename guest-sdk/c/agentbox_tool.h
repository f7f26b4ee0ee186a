/* agentbox guest SDK for C: the canonical-ABI glue of world agentbox:tool/tool@0.1.0.
 *
 * A tool written in C defines two functions:
 *
 *     const char *agentbox_describe(void);             // JSON: name, description, input_schema[, output_schema]
 *     int agentbox_call(const char *input, size_t len, // JSON input (not NUL-terminated)
 *                       char **out, size_t *out_len);  // malloc'd JSON (0) or error text (!= 0)
 *
 * and includes this header in exactly one file, compiled with
 *     clang --target=wasm32-wasi -mexec-model=reactor -Os -Wl,--strip-all -o tool.core.wasm tool.c
 * then `agentbox pack tool.core.wasm -o tool.wasm`.
 *
 * It also offers agentbox_error (the tool's error text), agentbox_log(level, message)
 * (audit log), agentbox_http_fetch (outbound HTTP through the host, checked against the
 * manifest) and small JSON helpers.
 *
 * Memory the host hands in or back is the guest's to free; a zero-length string or list
 * is not allocated (cabi_realloc answers a size of 0 with the alignment, never malloc),
 * so it is freed only when its length is not 0.
 */
#ifndef AGENTBOX_TOOL_H
#define AGENTBOX_TOOL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

enum agentbox_level { AGENTBOX_DEBUG = 0, AGENTBOX_INFO = 1, AGENTBOX_WARN = 2, AGENTBOX_ERROR = 3 };

const char *agentbox_describe(void);
int agentbox_call(const char *input, size_t len, char **out, size_t *out_len);

__attribute__((import_module("agentbox:tool/log@0.1.0"), import_name("log")))
extern void agentbox_log_raw(int32_t level, const char *msg, size_t len);

static inline void agentbox_log(enum agentbox_level level, const char *msg) {
    agentbox_log_raw((int32_t)level, msg, strlen(msg));
}

/* Sets the tool's error text (the `Err` of call) and returns 1, for
 * `return agentbox_error(out, out_len, "why");` from agentbox_call. */
static inline int agentbox_error(char **out, size_t *out_len, const char *msg) {
    size_t n = strlen(msg);
    *out = malloc(n ? n : 1);
    if (!*out) abort();
    memcpy(*out, msg, n);
    *out_len = n;
    return 1;
}

/* Memory the host asks for when it passes strings in. */
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    (void)align; /* malloc's alignment (16) covers every canonical-ABI alignment */
    if (new_size == 0) return (void *)align;
    void *p = realloc(old, new_size);
    if (!p) abort();
    return p;
}

static uint32_t agentbox_ret_area[3];

/* describe: func() -> string */
__attribute__((export_name("describe")))
uint32_t *agentbox_export_describe(void) {
    const char *d = agentbox_describe();
    size_t n = strlen(d);
    char *copy = malloc(n ? n : 1);
    if (!copy) abort();
    memcpy(copy, d, n);
    agentbox_ret_area[0] = (uint32_t)(uintptr_t)copy;
    agentbox_ret_area[1] = (uint32_t)n;
    return agentbox_ret_area;
}

__attribute__((export_name("cabi_post_describe")))
void agentbox_post_describe(uint32_t *ret) {
    free((void *)(uintptr_t)ret[0]);
}

/* call: func(input: string) -> result<string, string> */
__attribute__((export_name("call")))
uint32_t *agentbox_export_call(char *input, size_t len) {
    char *out = NULL;
    size_t out_len = 0;
    int rc = agentbox_call(input, len, &out, &out_len);
    if (len) free(input);
    if (!out) {
        out = malloc(1);
        if (!out) abort();
        out_len = 0;
    }
    agentbox_ret_area[0] = rc == 0 ? 0 : 1;
    agentbox_ret_area[1] = (uint32_t)(uintptr_t)out;
    agentbox_ret_area[2] = (uint32_t)out_len;
    return agentbox_ret_area;
}

__attribute__((export_name("cabi_post_call")))
void agentbox_post_call(uint32_t *ret) {
    free((void *)(uintptr_t)ret[1]);
}

/* Defines agentbox_describe from its parts: the tool's name and description, the JSON
 * Schema of its input (an object schema; `agentbox mcp` lists it and checks every
 * call's arguments against it before the tool runs) and of its result (NULL for none).
 * Each is a C string literal; the schemas are JSON text.
 *
 *     AGENTBOX_DESCRIBE("hello", "Greets someone by name.",
 *         "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}", NULL)
 */
#define AGENTBOX_DESCRIBE(name, description, input_schema, output_schema)              \
    const char *agentbox_describe(void) {                                               \
        static char buf[8192];                                                          \
        const char *out_s = (output_schema);                                            \
        snprintf(buf, sizeof buf,                                                       \
                 "{\"name\":\"%s\",\"description\":\"%s\",\"input_schema\":%s%s%s}",     \
                 (name), (description), (input_schema),                                 \
                 out_s ? ",\"output_schema\":" : "", out_s ? out_s : "");               \
        return buf;                                                                     \
    }

/* Outbound HTTP through the host (agentbox:tool/http): only to destinations the
 * manifest grants; a header value may hold {{secret:NAME}}, which the host fills in
 * where the manifest allows (the tool never sees the value).
 *
 *     struct agentbox_header h[] = {AGENTBOX_HEADER("Accept", "application/json")};
 *     struct agentbox_response r;
 *     if (agentbox_http_fetch("GET", url, h, 1, NULL, 0, 5000, &r) == 0) { ...r.status, r.body... }
 *     else { ...r.error_kind ("denied", ...), r.error... }
 *     agentbox_response_free(&r);
 */
/* A header: name and value with their lengths (a response's are not NUL-terminated). */
struct agentbox_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
/* For string literals only (the lengths are sizeof - 1); for a char * variable write
 * {name, strlen(name), value, strlen(value)}. */
#define AGENTBOX_HEADER(n, v) {("" n), sizeof(n) - 1, ("" v), sizeof(v) - 1}

struct agentbox_response {
    int status;                       /* 0 when the request failed */
    struct agentbox_header *headers;  /* the response's headers */
    size_t headers_len;
    uint8_t *body;
    size_t body_len;
    const char *error_kind;           /* denied, invalid-request, timeout, too-large, transport */
    char *error;                      /* the reason (not NUL-terminated; error_len bytes) */
    size_t error_len;
};

/* fetch: func(request) -> result<response, http-error>, lowered: the request's
 * fields flattened, the result written at `ret` (canonical ABI, wasm32). */
__attribute__((import_module("agentbox:tool/http@0.1.0"), import_name("fetch")))
extern void agentbox_http_fetch_raw(const char *method, size_t method_len, const char *url, size_t url_len,
                                    const struct agentbox_header *headers, size_t headers_len,
                                    int32_t has_body, const uint8_t *body, size_t body_len,
                                    int32_t has_timeout, uint32_t timeout_ms, void *ret);

struct agentbox_http_ret {
    uint8_t is_err;
    union {
        struct {
            uint16_t status;
            struct agentbox_header *headers;
            size_t headers_len;
            uint8_t *body;
            size_t body_len;
        } ok;
        struct {
            uint8_t kind;
            char *msg;
            size_t msg_len;
        } err;
    } u;
};

/* One request; timeout_ms 0 means the tool's own limit. Returns 0 with
 * r->status set, or -1 with r->error_kind and r->error set. */
static inline int agentbox_http_fetch(const char *method, const char *url, const struct agentbox_header *headers,
                                      size_t headers_len, const uint8_t *body, size_t body_len, uint32_t timeout_ms,
                                      struct agentbox_response *r) {
    static const char *kinds[] = {"denied", "invalid-request", "timeout", "too-large", "transport"};
    struct agentbox_http_ret ret;
    memset(&ret, 0, sizeof ret);
    memset(r, 0, sizeof *r);
    agentbox_http_fetch_raw(method, strlen(method), url, strlen(url), headers, headers_len, body != NULL,
                            body, body ? body_len : 0, timeout_ms != 0, timeout_ms, &ret);
    if (!ret.is_err) {
        r->status = ret.u.ok.status;
        r->headers = ret.u.ok.headers;
        r->headers_len = ret.u.ok.headers_len;
        r->body = ret.u.ok.body;
        r->body_len = ret.u.ok.body_len;
        return 0;
    }
    r->error_kind = ret.u.err.kind < 5 ? kinds[ret.u.err.kind] : "transport";
    /* timeout and too-large carry no text */
    if (ret.u.err.kind != 2 && ret.u.err.kind != 3) {
        r->error = ret.u.err.msg;
        r->error_len = ret.u.err.msg_len;
    }
    return -1;
}

/* Frees what the host handed back (zero-length parts were never allocated). */
static inline void agentbox_response_free(struct agentbox_response *r) {
    for (size_t i = 0; i < r->headers_len; i++) {
        if (r->headers[i].name_len) free((void *)r->headers[i].name);
        if (r->headers[i].value_len) free((void *)r->headers[i].value);
    }
    if (r->headers_len) free(r->headers);
    if (r->body_len) free(r->body);
    if (r->error_len) free(r->error);
    memset(r, 0, sizeof *r);
}

/* Small helpers for JSON tools. */

/* Finds the string value of "key" in a flat JSON object; copies it (unescaped for
 * the simple escapes \" \\ \/ \n \t) into buf. Returns length, or -1 when absent. */
static inline int agentbox_json_string(const char *json, size_t len, const char *key, char *buf, size_t cap) {
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 < len; i++) {
        if (json[i] != '"' || strncmp(json + i + 1, key, klen) != 0 || json[i + 1 + klen] != '"') continue;
        size_t j = i + klen + 2;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        /* Not followed by a colon: that was a value that reads like the key. */
        if (j >= len || json[j] != ':') continue;
        j++;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        if (j >= len || json[j] != '"') return -1;
        j++;
        size_t o = 0;
        while (j < len && json[j] != '"') {
            char c = json[j++];
            if (c == '\\' && j < len) {
                char e = json[j++];
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
            if (o + 1 < cap) buf[o++] = c;
        }
        buf[o] = 0;
        return (int)o;
    }
    return -1;
}

/* Appends s to buf as a JSON string body (escaping quotes, backslashes, controls). */
static inline size_t agentbox_json_escape(char *buf, size_t cap, const char *s) {
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { buf[o++] = '\\'; buf[o++] = (char)c; }
        else if (c < 0x20) { o += (size_t)snprintf(buf + o, cap - o, "\\u%04x", c); }
        else buf[o++] = (char)c;
    }
    buf[o] = 0;
    return o;
}

#endif
