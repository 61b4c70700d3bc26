/* SPDX-License-Identifier: Apache-2.0 */
/* cli_text.c -- text forms of keys and values for the strata tool (see cli.h, doc/cli.md). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int
hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int
decode_hex(const unsigned char *s, size_t len, unsigned char *dst, size_t *outlen, const char **why)
{
    if (len % 2 != 0) {
        *why = "odd number of hex digits";
        return -1;
    }
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "invalid hex digit";
            return -1;
        }
        dst[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return 0;
}

static int
decode_escaped(const unsigned char *s, size_t len, unsigned char *dst, size_t *outlen,
               const char **why)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            dst[n++] = s[i];
            continue;
        }
        if (i + 1 >= len) {
            *why = "backslash at the end (write \\\\ for a backslash)";
            return -1;
        }
        switch (s[++i]) {
        case '\\':
            dst[n++] = '\\';
            break;
        case 't':
            dst[n++] = '\t';
            break;
        case 'n':
            dst[n++] = '\n';
            break;
        case 'x': {
            int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "\\x must be followed by two hex digits";
                return -1;
            }
            dst[n++] = (unsigned char)(hi << 4 | lo);
            i += 2;
            break;
        }
        default:
            *why = "unknown escape (only \\t \\n \\\\ \\xNN are recognised)";
            return -1;
        }
    }
    *outlen = n;
    return 0;
}

int
cli_decode(int hex, const char *text, size_t len, unsigned char **out, size_t *outlen,
           const char **why)
{
    *out = NULL;
    *outlen = 0;
    *why = NULL;
    /* Both encodings only ever shrink the text. */
    unsigned char *dst = malloc(len + 1);
    if (dst == NULL) {
        *why = "out of memory";
        return -1;
    }
    const unsigned char *s = (const unsigned char *)text;
    int rc = hex ? decode_hex(s, len, dst, outlen, why) : decode_escaped(s, len, dst, outlen, why);
    if (rc != 0) {
        free(dst);
        *outlen = 0;
        return -1;
    }
    *out = dst;
    return 0;
}

int
cli_print_bytes(FILE *f, int hex, const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *s = p;
    char buf[512];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + 4 > sizeof(buf)) {
            if (fwrite(buf, 1, used, f) != used)
                return -1;
            used = 0;
        }
        unsigned char ch = s[i];
        if (hex) {
            buf[used++] = digits[ch >> 4];
            buf[used++] = digits[ch & 15];
        } else if (ch == '\\') {
            buf[used++] = '\\';
            buf[used++] = '\\';
        } else if (ch == '\t') {
            buf[used++] = '\\';
            buf[used++] = 't';
        } else if (ch == '\n') {
            buf[used++] = '\\';
            buf[used++] = 'n';
        } else if (ch < 0x20 || ch > 0x7e) {
            buf[used++] = '\\';
            buf[used++] = 'x';
            buf[used++] = digits[ch >> 4];
            buf[used++] = digits[ch & 15];
        } else {
            buf[used++] = (char)ch;
        }
    }
    if (used > 0 && fwrite(buf, 1, used, f) != used)
        return -1;
    return 0;
}

const char *
cli_check_key(size_t klen)
{
    if (klen == 0)
        return "empty key (keys are 1 to 65536 bytes)";
    if (klen > STRATA_MAX_KEY_SIZE)
        return "key too long (keys are 1 to 65536 bytes)";
    return NULL;
}

const char *
cli_check_value(size_t vlen)
{
    if (vlen > STRATA_MAX_VALUE_SIZE)
        return "value too long (at most 256 MiB)";
    return NULL;
}

static int
decode_arg(const cli_ctx *c, const char *what, const char *text, int is_key, unsigned char **out,
           size_t *outlen)
{
    const char *why = NULL;
    if (cli_decode(c->hex, text, strlen(text), out, outlen, &why) != 0)
        return cli_usage(c, "bad %s '%.40s%s': %s", what, text, strlen(text) > 40 ? "..." : "",
                         why);
    why = is_key ? cli_check_key(*outlen) : cli_check_value(*outlen);
    if (why != NULL) {
        free(*out);
        *out = NULL;
        return cli_usage(c, "bad %s: %s (%zu bytes)", what, why, *outlen);
    }
    return CLI_EXIT_OK;
}

int
cli_key_arg(const cli_ctx *c, const char *what, const char *text, unsigned char **out,
            size_t *outlen)
{
    return decode_arg(c, what, text, 1, out, outlen);
}

int
cli_value_arg(const cli_ctx *c, const char *what, const char *text, unsigned char **out,
              size_t *outlen)
{
    return decode_arg(c, what, text, 0, out, outlen);
}
