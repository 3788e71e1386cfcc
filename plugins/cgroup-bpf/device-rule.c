/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev-error.h"
#include "device-rule.h"

int device_type_parse(const char *s, unsigned *ret_types) {
        if (!s || s[0] == '\0' || s[1] != '\0')
                return -EINVAL;
        switch (s[0]) {
        case 'b': *ret_types = DEVICE_TYPE_BLOCK; return 0;
        case 'c': *ret_types = DEVICE_TYPE_CHAR; return 0;
        case 'a': *ret_types = DEVICE_TYPE_ALL; return 0;
        default: return -EINVAL;
        }
}

/* One number or '*'; the wildcard value itself is not a device number. */
static int device_number_parse(const char *s, size_t len, uint32_t *ret) {
        uint64_t v = 0;

        if (len == 1 && s[0] == '*') {
                *ret = DEVICE_WILDCARD;
                return 0;
        }
        if (len == 0 || len > 10)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v >= DEVICE_WILDCARD)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int device_numbers_parse(const char *s, uint32_t *ret_major, uint32_t *ret_minor) {
        const char *colon = s ? strchr(s, ':') : NULL;
        uint32_t major, minor;
        int r;

        if (!colon)
                return -EINVAL;
        r = device_number_parse(s, (size_t) (colon - s), &major);
        if (r < 0)
                return r;
        r = device_number_parse(colon + 1, strlen(colon + 1), &minor);
        if (r < 0)
                return r;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

int device_access_parse(const char *s, unsigned *ret_access) {
        unsigned access = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++) {
                unsigned bit;
                switch (*s) {
                case 'r': bit = BW_ACCESS_READ; break;
                case 'w': bit = BW_ACCESS_WRITE; break;
                case 'm': bit = BW_ACCESS_MKNOD; break;
                default: return -EINVAL;
                }
                if (access & bit)
                        return -EINVAL;
                access |= bit;
        }
        *ret_access = access;
        return 0;
}

int device_rule_parse(const char *text, bool allow, DeviceRule *ret, DevError *reterr) {
        char type[8], numbers[32], access[8], extra[2];
        unsigned types, acc;
        uint32_t major, minor;
        int n, r;

        if (!text)
                text = "";
        n = sscanf(text, "%7s %31s %7s %1s", type, numbers, access, extra);
        if (n != 3)
                return dev_error_set(reterr, EINVAL,
                                     "device rule '%s': expected TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 rw'",
                                     text);
        if (device_type_parse(type, &types) < 0)
                return dev_error_set(reterr, EINVAL,
                                     "device rule '%s': unknown type '%s' (expected b, c or a)", text, type);
        r = device_numbers_parse(numbers, &major, &minor);
        if (r == -ERANGE)
                return dev_error_set(reterr, EINVAL,
                                     "device rule '%s': device number in '%s' out of range (at most 4294967294)",
                                     text, numbers);
        if (r < 0)
                return dev_error_set(reterr, EINVAL,
                                     "device rule '%s': bad device numbers '%s' (expected MAJOR:MINOR, each a number or *)",
                                     text, numbers);
        if (device_access_parse(access, &acc) < 0)
                return dev_error_set(reterr, EINVAL,
                                     "device rule '%s': bad access '%s' (expected letters of r, w, m, each once)",
                                     text, access);
        *ret = (DeviceRule) {
                .allow = allow,
                .types = (uint8_t) types,
                .access = (uint8_t) acc,
                .major = major,
                .minor = minor,
        };
        return 0;
}

int device_rule_parse_line(const char *line, DeviceRule *ret, DevError *reterr) {
        char buf[256];
        char *p, *hash;
        bool allow = true;
        size_t len = strlen(line);

        if (len >= sizeof(buf))
                return dev_error_set(reterr, EINVAL, "device rule line too long (%zu bytes)", len);
        memcpy(buf, line, len + 1);
        hash = strchr(buf, '#');
        if (hash)
                *hash = '\0';
        p = buf;
        while (isspace((unsigned char) *p))
                p++;
        len = strlen(p);
        while (len > 0 && isspace((unsigned char) p[len - 1]))
                p[--len] = '\0';
        if (len == 0)
                return 0;
        if (strncmp(p, "allow", 5) == 0 && isspace((unsigned char) p[5]))
                p += 5;
        else if (strncmp(p, "deny", 4) == 0 && isspace((unsigned char) p[4])) {
                p += 4;
                allow = false;
        }
        while (isspace((unsigned char) *p))
                p++;
        int r = device_rule_parse(p, allow, ret, reterr);
        return r < 0 ? r : 1;
}

int device_rule_parse_file(const char *path, DeviceRule **ret_rules, size_t *ret_n,
                           DevError *reterr) {
        FILE *f = fopen(path, "re");
        DeviceRule *rules = NULL;
        size_t n = 0, allocated = 0;
        char *line = NULL;
        size_t line_size = 0;
        unsigned lineno = 0;
        int r = 0;

        if (!f)
                return dev_error_set(reterr, errno, "device rules '%s': cannot open: %m", path);
        while (getline(&line, &line_size, f) >= 0) {
                DeviceRule rule;
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                r = device_rule_parse_line(line, &rule, reterr);
                if (r < 0) {
                        dev_error_prefix(reterr, "%s:%u", path, lineno);
                        break;
                }
                if (r == 0)
                        continue;
                if (n == allocated) {
                        size_t na = allocated ? allocated * 2 : 32;
                        DeviceRule *nr = realloc(rules, na * sizeof(*rules));
                        if (!nr) {
                                r = dev_error_set(reterr, ENOMEM, "device rules '%s': out of memory", path);
                                break;
                        }
                        rules = nr;
                        allocated = na;
                }
                rules[n++] = rule;
                r = 0;
        }
        if (r >= 0 && ferror(f))
                r = dev_error_set(reterr, EIO, "device rules '%s': read error", path);
        free(line);
        fclose(f);
        if (r < 0) {
                free(rules);
                return r;
        }
        *ret_rules = rules;
        *ret_n = n;
        return 0;
}

char *device_access_format(unsigned access, char buf[static 4]) {
        char *p = buf;
        if (access & BW_ACCESS_READ)
                *p++ = 'r';
        if (access & BW_ACCESS_WRITE)
                *p++ = 'w';
        if (access & BW_ACCESS_MKNOD)
                *p++ = 'm';
        if (p == buf)
                *p++ = '-';
        *p = '\0';
        return buf;
}

char device_type_char(unsigned types) {
        switch (types & DEVICE_TYPE_ALL) {
        case DEVICE_TYPE_BLOCK: return 'b';
        case DEVICE_TYPE_CHAR: return 'c';
        default: return 'a';
        }
}

char *device_numbers_format(uint32_t major, uint32_t minor, char buf[static 24]) {
        char a[12], b[12];
        if (major == DEVICE_WILDCARD)
                strcpy(a, "*");
        else
                snprintf(a, sizeof(a), "%" PRIu32, major);
        if (minor == DEVICE_WILDCARD)
                strcpy(b, "*");
        else
                snprintf(b, sizeof(b), "%" PRIu32, minor);
        snprintf(buf, 24, "%s:%s", a, b);
        return buf;
}

char *device_rule_format(const DeviceRule *rule, bool with_verb, char buf[static DEVICE_RULE_TEXT_MAX]) {
        char nums[24], acc[4];
        snprintf(buf, DEVICE_RULE_TEXT_MAX, "%s%c %s %s",
                 with_verb ? (rule->allow ? "allow " : "deny ") : "", device_type_char(rule->types),
                 device_numbers_format(rule->major, rule->minor, nums),
                 device_access_format(rule->access, acc));
        return buf;
}
