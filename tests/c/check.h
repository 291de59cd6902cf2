/* check.h: the one CHECK macro of the C tests. A failed check is counted and printed with
 * its file and line; the test's main ends with `return check_summary("test_x");`.
 * Safe from several threads (the counters sit behind a mutex; the condition is evaluated
 * outside it, so a slow library call does not serialise the threads). */
#ifndef MF_TESTS_CHECK_H
#define MF_TESTS_CHECK_H

#include <pthread.h>
#include <stdio.h>

static int failures = 0;
static int checks = 0;
static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;

static void check_record(int ok, const char *file, int line, const char *what) {
    pthread_mutex_lock(&check_lock);
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
    pthread_mutex_unlock(&check_lock);
}

#define CHECK(cond) check_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Print the counts and give main's exit status (0 when every check passed). */
static int check_summary(const char *test) {
    pthread_mutex_lock(&check_lock);
    int failed = failures, total = checks;
    pthread_mutex_unlock(&check_lock);
    printf("%s: %d checks, %d failures\n", test, total, failed);
    return failed == 0 ? 0 : 1;
}

#endif
