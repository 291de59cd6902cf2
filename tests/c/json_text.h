/* json_text.h: the C tests' small readers of the library's JSON answers (no JSON library). */
#ifndef MF_TESTS_JSON_TEXT_H
#define MF_TESTS_JSON_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of the first "key": <digits> in a JSON text, or -1. */
static inline long json_number(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    return at ? strtol(at + strlen(pattern), NULL, 10) : -1;
}

/* The number of lines in a JSON-lines text. */
static inline int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; p && *p; p++) n += *p == '\n';
    return n;
}

#endif
