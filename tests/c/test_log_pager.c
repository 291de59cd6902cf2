/* Logging for C, paging, shared limiters and monitors, and the ABI version, through the
 * committed header, with the default client configuration (the account's rate limiter on). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magflow_emag.h"

#include "check.h"

/* What the log callback saw; it runs on the library's threads too, hence the lock. */
struct seen {
    pthread_mutex_t lock;
    int records;
    int above_level;
    int hold_429;
    int retrying;
    int request_lines;
    int sync_pages;
    int secret;
    int bad_target;
};

static void on_log(int level, const char *target, const char *message, void *user_data) {
    struct seen *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->records++;
    if (level < MF_LOG_ERROR || level > MF_LOG_DEBUG) s->above_level++;
    if (strstr(message, "429") && strstr(message, "holding")) s->hold_429++;
    if (strstr(message, "retrying")) s->retrying++;
    if (strstr(message, "vat/read ->")) s->request_lines++;
    if (level == MF_LOG_INFO && strstr(message, "sync orders: page")) s->sync_pages++;
    if (strstr(message, "sim-password")) s->secret++;
    if (target == NULL || strncmp(target, "magflow_emag", 12) != 0) s->bad_target++;
    pthread_mutex_unlock(&s->lock);
}

static int count_pages(mf_client *client, const char *resource, const char *filters, int *items) {
    mf_pager *pager = NULL;
    if (mf_client_iter(client, resource, filters, &pager) != MF_OK) return -1;
    int pages = 0;
    *items = 0;
    for (;;) {
        char *page = NULL;
        if (mf_pager_next(pager, &page) != MF_OK) {
            pages = -1;
            break;
        }
        if (page == NULL) break;
        pages++;
        /* Offers in the simulator carry exactly one "part_number_key" each. */
        for (const char *p = page; (p = strstr(p, "\"part_number_key\"")) != NULL; p++) (*items)++;
        mf_string_free(page);
    }
    mf_pager_free(pager);
    return pages;
}

int main(void) {
    /* The header's ABI version is the library's, and the version numbers match mf_version(). */
    CHECK(mf_abi_version() == MF_ABI_VERSION);
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", MF_VERSION_MAJOR, MF_VERSION_MINOR, MF_VERSION_PATCH);
    CHECK(strcmp(version, mf_version()) == 0);

    struct seen seen;
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.lock, NULL);
    CHECK(mf_set_log_callback(MF_LOG_DEBUG, on_log, &seen) == MF_OK);
    CHECK(mf_set_log_callback(99, on_log, &seen) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_set_log_level(-1) == MF_ERR_INVALID_ARGUMENT);

    mf_simulator *sim = NULL;
    CHECK(mf_simulator_start("{\"orders\": 10, \"offers\": 23, \"seed\": 3, \"enforce_rate_limits\": false, "
                             "\"fault_retry_after_seconds\": 1}", &sim) == MF_OK);
    char *url = NULL;
    CHECK(mf_simulator_url(sim, &url) == MF_OK);

    /* Default configuration: the account's limiter is on. One 429, then a retry: the C
     * program sees the hold and the retry, and every request line. */
    char config[512];
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\", "
             "\"retry\": {\"max_retries\": 2, \"base_delay\": 0.001, \"max_delay\": 0.01}}", url);
    mf_client *client = NULL;
    CHECK(mf_client_new(config, &client) == MF_OK);
    CHECK(mf_simulator_inject(sim, "rate_limit", 1, "vat", "read") == MF_OK);
    char *out = NULL;
    CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
    mf_string_free(out);
    pthread_mutex_lock(&seen.lock);
    CHECK(seen.hold_429 == 1);
    CHECK(seen.retrying == 1);
    CHECK(seen.request_lines == 2);
    CHECK(seen.secret == 0);
    CHECK(seen.above_level == 0);
    CHECK(seen.bad_target == 0);
    int before = seen.records;
    pthread_mutex_unlock(&seen.lock);

    /* Sync progress at info level: one record per stored page. */
    char db[] = "/tmp/mf_log_pager_db_XXXXXX";
    int dbfd = mkstemp(db);
    CHECK(dbfd >= 0);
    if (dbfd >= 0) {
        close(dbfd);
        unlink(db); /* the store creates it */
        mf_store *store = NULL;
        CHECK(mf_store_open(db, &store) == MF_OK);
        char *summary = NULL;
        CHECK(mf_sync_orders(client, store, "{\"order_types\": [3]}", &summary) == MF_OK);
        CHECK(summary != NULL && strstr(summary, "\"status\":\"success\"") != NULL);
        mf_string_free(summary);
        mf_store_free(store);
        char side[64];
        unlink(db);
        snprintf(side, sizeof side, "%s-wal", db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", db);
        unlink(side);
    }
    pthread_mutex_lock(&seen.lock);
    CHECK(seen.sync_pages >= 1);
    before = seen.records;
    pthread_mutex_unlock(&seen.lock);

    /* A lower level drops the debug lines; removing the callback drops everything. */
    CHECK(mf_set_log_level(MF_LOG_WARN) == MF_OK);
    CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
    mf_string_free(out);
    CHECK(mf_set_log_callback(MF_LOG_DEBUG, NULL, NULL) == MF_OK);
    CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
    mf_string_free(out);
    pthread_mutex_lock(&seen.lock);
    CHECK(seen.records == before);
    pthread_mutex_unlock(&seen.lock);

    /* Every page without hand-rolled paging: 23 offers, 5 per page = 5 pages. */
    int items = 0;
    CHECK(count_pages(client, "product_offer", "{\"itemsPerPage\": 5}", &items) == 5);
    CHECK(items == 23);
    CHECK(count_pages(client, "product_offer", NULL, &items) == 1);
    CHECK(items == 23);
    mf_pager *pager = NULL;
    CHECK(mf_client_iter(client, "product_offer", "{\"itemsPerPage\": 500}", &pager) == MF_ERR_VALIDATION && pager == NULL);
    CHECK(mf_client_iter(client, "product_offer", "[1]", &pager) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_iter(client, "product_offer", "{nope", &pager) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_iter(NULL, "product_offer", NULL, &pager) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_iter(client, "product_offer", "{\"itemsPerPage\": 10}", &pager) == MF_OK);
    uint64_t window = 9, page = 0;
    CHECK(mf_pager_position(pager, &window, &page) == MF_OK && window == 0 && page == 1);
    CHECK(mf_pager_next(pager, NULL) == MF_ERR_INVALID_ARGUMENT);
    char *first = NULL;
    CHECK(mf_pager_next(pager, &first) == MF_OK && first != NULL && first[0] == '[');
    mf_string_free(first);
    CHECK(mf_pager_position(pager, NULL, &page) == MF_OK && page == 2);
    mf_client_free(client); /* the pager keeps its own reference */
    client = NULL;
    CHECK(mf_pager_next(pager, &first) == MF_OK && first != NULL);
    mf_string_free(first);
    mf_pager_free(pager);
    mf_pager_free(NULL);

    /* A limiter and a monitor passed in as handles: the client spends the limiter's quota
     * and reports to the monitor. */
    mf_rate_limiter *limiter = NULL;
    CHECK(mf_rate_limiter_new("{\"other\": {\"per_second\": 1, \"per_minute\": 60}}", &limiter) == MF_OK);
    mf_monitor *monitor = NULL;
    CHECK(mf_monitor_new(NULL, &monitor) == MF_OK);
    CHECK(mf_client_new_with(config, limiter, monitor, &client) == MF_OK);
    CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
    mf_string_free(out);
    bool got = true;
    CHECK(mf_rate_limiter_try_acquire(limiter, "other", &got) == MF_OK && got == false);
    char *prom = NULL;
    CHECK(mf_monitor_prometheus_text(monitor, &prom) == MF_OK);
    CHECK(prom != NULL && strstr(prom, "resource=\"vat\",action=\"read\"") != NULL);
    mf_string_free(prom);
    mf_rate_limiter_free(limiter); /* the client keeps its own references */
    mf_monitor_free(monitor);
    CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
    mf_string_free(out);
    mf_client_free(client);
    client = NULL;
    CHECK(mf_client_new_with(NULL, NULL, NULL, &client) == MF_ERR_INVALID_ARGUMENT && client == NULL);

    /* A host limiter named in the client's JSON is shared with every process naming the file
     * (here a limiter handle of this process with the same settings stands for another). */
    char path[] = "/tmp/mf_client_host_rl_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        char rl[256];
        snprintf(rl, sizeof rl, "{\"backend\": \"host\", \"path\": \"%s\", \"other\": {\"per_second\": 1, \"per_minute\": 60}}", path);
        snprintf(config, sizeof config,
                 "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\", \"rate_limiter\": %s}",
                 url, rl);
        CHECK(mf_client_new(config, &client) == MF_OK);
        CHECK(mf_client_call(client, "vat", "read", NULL, &out) == MF_OK);
        mf_string_free(out);
        mf_rate_limiter *other = NULL;
        CHECK(mf_rate_limiter_new(rl, &other) == MF_OK);
        got = true;
        CHECK(mf_rate_limiter_try_acquire(other, "other", &got) == MF_OK && got == false);
        mf_rate_limiter_free(other);
        mf_client_free(client);
        client = NULL;
        snprintf(config, sizeof config,
                 "{\"username\": \"u\", \"password\": \"p\", \"rate_limit\": false, \"rate_limiter\": %s}", rl);
        CHECK(mf_client_new(config, &client) == MF_ERR_INVALID_ARGUMENT && client == NULL);
        unlink(path);
    }
    CHECK(mf_client_new("{\"username\": \"u\", \"password\": \"p\", \"rate_limiter\": {\"backend\": \"host\"}}", &client)
          == MF_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mf_last_error_message(), "rate_limiter") != NULL);

    mf_string_free(url);
    mf_simulator_free(sim);
    pthread_mutex_destroy(&seen.lock);
    return check_summary("test_log_pager");
}
