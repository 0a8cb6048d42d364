
/*
 * Copyright (C) wsgate authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"


typedef struct {
    const char   *name;
    void        (*run)(void);
} unit_group_t;


static unsigned long  unit_passed;
static unsigned long  unit_failed;
static const char    *unit_row_file;
static int            unit_row_line;
static char           unit_case_text[256];


static const unit_group_t  unit_groups[] = {
    { "token", test_token },
    { "uuid", test_uuid },
    { "check", test_check },
    { "schema", test_schema },
    { "path", test_path },
    { "json", test_json },
    { "slot", test_slot },
    { "reply", test_reply },
};


static void
unit_fail_head(const char *file, int line, const char *expr)
{
    unit_failed++;

    printf("FAIL %s:%d: %s", file, line, expr);

    if (unit_row_file != NULL) {
        printf(" [row %s:%d]", unit_row_file, unit_row_line);
    }

    if (unit_case_text[0] != '\0') {
        printf(" [case %s]", unit_case_text);
    }
}


void
unit_check(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        unit_passed++;
        return;
    }

    unit_fail_head(file, line, expr);
    printf("\n");
}


void
unit_check_int(long long got, long long want, const char *file, int line,
    const char *expr)
{
    if (got == want) {
        unit_passed++;
        return;
    }

    unit_fail_head(file, line, expr);
    printf(": got %lld, want %lld\n", got, want);
}


void
unit_check_str(const char *got, const char *want, const char *file,
    int line, const char *expr)
{
    if ((got == NULL && want == NULL)
        || (got != NULL && want != NULL && strcmp(got, want) == 0))
    {
        unit_passed++;
        return;
    }

    unit_fail_head(file, line, expr);
    printf(": got %s%s%s, want %s%s%s\n",
           got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
           want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}


static void
unit_print_mem(const void *data, size_t len)
{
    size_t          i;
    const u_char   *p;

    p = data;

    putchar('"');

    for (i = 0; i < len && i < 200; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            putchar(p[i]);

        } else {
            printf("\\x%02x", p[i]);
        }
    }

    printf("%s\" (%zu bytes)", i < len ? "..." : "", len);
}


void
unit_check_mem(const void *got, size_t got_len, const void *want,
    size_t want_len, const char *file, int line, const char *expr)
{
    if (got_len == want_len
        && (want_len == 0 || memcmp(got, want, want_len) == 0))
    {
        unit_passed++;
        return;
    }

    unit_fail_head(file, line, expr);
    printf(": got ");
    unit_print_mem(got, got_len);
    printf(", want ");
    unit_print_mem(want, want_len);
    printf("\n");
}


void
unit_row(const char *file, int line)
{
    unit_row_file = file;
    unit_row_line = line;
    unit_case_text[0] = '\0';
}


void
unit_case(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(unit_case_text, sizeof(unit_case_text), fmt, args);
    va_end(args);
}


u_char *
unit_dup(const void *data, size_t len)
{
    u_char  *p;

    p = malloc(len);

    if (p == NULL && len != 0) {
        fprintf(stderr, "unit_dup: out of memory\n");
        exit(2);
    }

    if (len) {
        memcpy(p, data, len);
    }

    return p;
}


int
main(int argc, char **argv)
{
    size_t         i;
    unsigned long  passed, failed;

    for (i = 0; i < sizeof(unit_groups) / sizeof(unit_groups[0]); i++) {
        passed = unit_passed;
        failed = unit_failed;

        unit_row(NULL, 0);
        unit_groups[i].run();

        if (unit_failed == failed) {
            printf("# group %s: ok, %lu checks\n", unit_groups[i].name,
                   unit_passed - passed);

        } else {
            printf("# group %s: %lu of %lu checks FAILED\n",
                   unit_groups[i].name, unit_failed - failed,
                   unit_passed - passed + unit_failed - failed);
        }
    }

    printf("%lu passed, %lu failed\n", unit_passed, unit_failed);

    return unit_failed ? 1 : 0;
}
