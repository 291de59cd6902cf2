/* magflow-emag from C: sync eMAG orders into a local SQLite store, read offers page by page,
 * and see the library's log. Runs against the bundled simulator, so it needs no credentials;
 * for the real API drop the simulator and give your API user and password instead.
 *
 * Build against an installed library with the simulator (`make install PREFIX=...
 *   C_FEATURES=simulator`; its pkg-config Cflags define MF_SIMULATOR):
 *   cc sync_example.c $(pkg-config --cflags --libs magflow-emag) -o sync_example
 * or statically, with a prefix holding only libmagflow_emag.a:
 *   cc sync_example.c $(pkg-config --static --cflags --libs magflow-emag) -o sync_example
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magflow_emag.h>

/* Called from any thread of the library: keep it thread-safe (one fprintf call is). */
static void print_log(int level, const char *target, const char *message, void *user_data) {
    (void)user_data;
    static const char *names[] = {"off", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    fprintf(stderr, "[%s %s] %s\n", level >= 0 && level <= 5 ? names[level] : "?", target, message);
}

static int fail(const char *what, mf_status st) {
    const char *msg = mf_last_error_message();
    fprintf(stderr, "%s failed: %s: %s\n", what, mf_status_name(st), msg ? msg : "");
    return 1;
}

int main(int argc, char **argv) {
    const char *db = argc > 1 ? argv[1] : "example.db";
    if (mf_abi_version() != MF_ABI_VERSION) {
        fprintf(stderr, "built for ABI %d, loaded ABI %u\n", MF_ABI_VERSION, mf_abi_version());
        return 1;
    }
    printf("magflow-emag %s (ABI %u)\n", mf_version(), mf_abi_version());
    mf_set_log_callback(MF_LOG_WARN, print_log, NULL); /* 429 holds, sync warnings */

    mf_status st;
    mf_simulator *sim = NULL;
    if ((st = mf_simulator_start("{\"orders\": 120, \"offers\": 30, \"seed\": 5}", &sim)) != MF_OK)
        return fail("mf_simulator_start", st);
    char *url = NULL;
    mf_simulator_url(sim, &url);
    /* One 429 from the "gateway": the log shows the hold, the client waits and retries. */
    mf_simulator_inject(sim, "rate_limit", 1, "product_offer", "read");

    char config[512];
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\"}", url);
    mf_client *client = NULL;
    if ((st = mf_client_new(config, &client)) != MF_OK) return fail("mf_client_new", st);

    mf_store *store = NULL;
    if ((st = mf_store_open(db, &store)) != MF_OK) return fail("mf_store_open", st);
    char *summary = NULL;
    if ((st = mf_sync_orders(client, store, NULL, &summary)) != MF_OK) return fail("mf_sync_orders", st);
    printf("sync: %s\n", summary);
    int ok = strstr(summary, "\"status\":\"success\"") != NULL;
    mf_string_free(summary);
    uint64_t count = 0;
    mf_store_count_orders(store, &count);
    printf("orders in %s: %llu\n", db, (unsigned long long)count);

    /* Every page of offers, 10 at a time. */
    mf_pager *pager = NULL;
    if ((st = mf_client_iter(client, "product_offer", "{\"itemsPerPage\": 10}", &pager)) != MF_OK)
        return fail("mf_client_iter", st);
    int pages = 0;
    char *page = NULL;
    while ((st = mf_pager_next(pager, &page)) == MF_OK && page != NULL) {
        pages++;
        mf_string_free(page);
    }
    if (st != MF_OK) return fail("mf_pager_next", st);
    printf("offer pages: %d\n", pages);

    mf_pager_free(pager);
    mf_store_free(store);
    mf_client_free(client);
    mf_string_free(url);
    mf_simulator_free(sim);
    mf_set_log_callback(MF_LOG_OFF, NULL, NULL);
    /* 30 offers, 10 a page: 3 full pages, then the empty one that ends the walk. */
    return ok && count == 120 && pages == 4 ? 0 : 1;
}
