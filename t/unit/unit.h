
/*
 * Copyright (C) wsgate authors
 *
 * A tiny unit-test harness for the pure C helpers.  Every CHECK records a
 * pass or a failure; a failure prints its file:line (and the table row it
 * came from, when a loop set one with UNIT_ROW).  unit.c's main() runs
 * every group and closes with exactly one line "N passed, N failed".
 */


#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


void unit_check(int ok, const char *file, int line, const char *expr);
void unit_check_int(long long got, long long want, const char *file,
    int line, const char *expr);
void unit_check_str(const char *got, const char *want, const char *file,
    int line, const char *expr);
void unit_check_mem(const void *got, size_t got_len, const void *want,
    size_t want_len, const char *file, int line, const char *expr);
void unit_row(const char *file, int line);
void unit_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A heap copy of exactly len bytes, no NUL after it: ASan sees overreads. */
u_char *unit_dup(const void *data, size_t len);


#define CHECK(expr)                                                           \
    unit_check((expr) != 0, __FILE__, __LINE__, #expr)

#define CHECK_INT(got, want)                                                  \
    unit_check_int((long long) (got), (long long) (want), __FILE__, __LINE__, \
                   #got)

/* NULL-safe: NULL equals only NULL */
#define CHECK_STR(got, want)                                                  \
    unit_check_str((got), (want), __FILE__, __LINE__, #got)

#define CHECK_MEM(got, got_len, want, want_len)                               \
    unit_check_mem((got), (got_len), (want), (want_len), __FILE__, __LINE__,  \
                   #got)

/*
 * UNIT_ROW names the table row (its source line) and unit_case() describes
 * the generated case that the next failures belong to; UNIT_ROW_END()
 * forgets both.
 */
#define UNIT_ROW(line)  unit_row(__FILE__, (line))
#define UNIT_ROW_END()  unit_row(NULL, 0)


/* the groups, one per t/unit/test_*.c */
void test_token(void);
void test_uuid(void);
void test_check(void);
void test_schema(void);
void test_path(void);
void test_json(void);
void test_slot(void);
void test_reply(void);


#endif /* _UNIT_H_INCLUDED_ */
