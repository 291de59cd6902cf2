/* The rate limiter through the C ABI, using only the committed header. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magflow_emag.h"

#include "check.h"

int main(void) {
    /* Defaults: eMAG's quotas, local backend. */
    mf_rate_limiter *rl = NULL;
    CHECK(mf_rate_limiter_new(NULL, &rl) == MF_OK && rl != NULL);
    char *json = NULL;
    CHECK(mf_rate_limiter_stats(rl, &json) == MF_OK && json != NULL);
    CHECK(json && strstr(json, "\"backend\":\"local\"") != NULL);
    CHECK(json && strstr(json, "\"per_second\":12") != NULL);
    mf_string_free(json);
    mf_rate_limiter_free(rl);

    /* A slow quota: the second permit is a second away. */
    rl = NULL;
    CHECK(mf_rate_limiter_new("{\"other\":{\"per_second\":1,\"per_minute\":60}}", &rl) == MF_OK);
    CHECK(mf_rate_limiter_acquire(rl, "other", -1.0) == MF_OK);
    CHECK(mf_rate_limiter_acquire(rl, "other", 0.01) == MF_ERR_RATE_LIMITED);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "nothing was consumed") != NULL);
    bool got = true;
    CHECK(mf_rate_limiter_try_acquire(rl, "other", &got) == MF_OK && got == false);
    CHECK(mf_rate_limiter_try_acquire(rl, "orders", &got) == MF_OK && got == true);
    CHECK(mf_rate_limiter_on_rate_limited(rl, "orders", 30.0) == MF_OK);
    CHECK(mf_rate_limiter_acquire(rl, "orders", 0.0) == MF_ERR_RATE_LIMITED);
    json = NULL;
    CHECK(mf_rate_limiter_stats(rl, &json) == MF_OK);
    CHECK(json && strstr(json, "\"timeouts\":1") != NULL);
    CHECK(json && strstr(json, "\"rate_limited\":1") != NULL);
    printf("stats: %s\n", json ? json : "(null)");
    mf_string_free(json);
    mf_rate_limiter_reset_stats(rl);
    json = NULL;
    CHECK(mf_rate_limiter_stats(rl, &json) == MF_OK && json && strstr(json, "\"requests\":0") != NULL);
    mf_string_free(json);

    /* Bad input: clear errors, outputs untouched. */
    CHECK(mf_rate_limiter_acquire(rl, "bogus", -1.0) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_rate_limiter_acquire(rl, NULL, -1.0) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_rate_limiter_acquire(NULL, "orders", -1.0) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_rate_limiter_stats(rl, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_rate_limiter_on_rate_limited(rl, "orders", -1.0) == MF_ERR_INVALID_ARGUMENT);
    mf_rate_limiter_free(rl);

    mf_rate_limiter *bad = NULL;
    CHECK(mf_rate_limiter_new("{\"backend\":\"host\"}", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_rate_limiter_new("{not json", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_rate_limiter_new("{}", NULL) == MF_ERR_INVALID_ARGUMENT);

    /* Host backend: two handles on one file share the quota. */
    char path[] = "/tmp/mf_rl_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd); /* empty file: initialised by the first opener */
        char config[256];
        snprintf(config, sizeof config,
                 "{\"backend\":\"host\",\"path\":\"%s\",\"orders\":{\"per_second\":1,\"per_minute\":60}}", path);
        mf_rate_limiter *a = NULL, *b = NULL;
        CHECK(mf_rate_limiter_new(config, &a) == MF_OK);
        CHECK(mf_rate_limiter_new(config, &b) == MF_OK);
        CHECK(mf_rate_limiter_try_acquire(a, "orders", &got) == MF_OK && got == true);
        CHECK(mf_rate_limiter_try_acquire(b, "orders", &got) == MF_OK && got == false);
        mf_rate_limiter_free(a);
        mf_rate_limiter_free(b);
        unlink(path);
    }

    /* Redis URL passwords never appear in messages (no connection is made by _new; the
     * redis round trips themselves are tested in Rust and Python, since they start the shared
     * runtime, whose threads live until exit). */
    mf_rate_limiter *r = NULL;
    CHECK(mf_rate_limiter_new("{\"backend\":\"redis\",\"redis_url\":\"redis://:topsecret@127.0.0.1:1/0\","
                              "\"redis_timeout_s\":0.5}", &r) == MF_OK && r != NULL);
    mf_rate_limiter_free(r);
    r = NULL;
    CHECK(mf_rate_limiter_new("{\"backend\":\"redis\",\"redis_url\":\"rediss://:topsecret@h/0\"}", &r)
          == MF_ERR_INVALID_ARGUMENT && r == NULL);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "topsecret") == NULL);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "***") != NULL);

    mf_rate_limiter_free(NULL); /* no-op */
    mf_rate_limiter_reset_stats(NULL);

    return check_summary("test_ratelimit");
}
