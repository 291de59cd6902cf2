/* eMAG's callbacks through the C ABI: a callback answered (recorded in the store), a forged
 * one refused, a short token an argument error, the worker storing the order by id, the
 * queue's figures, and ownership of every returned string. Uses only the committed header. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "magflow_emag.h"

#include "check.h"
#include "json_text.h"


static const char *TOKEN = "c-callback-token-0123456789";

int main(void) {
    char dir[] = "/tmp/mf-c-callbacks-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char db[256];
    snprintf(db, sizeof db, "%s/store.db", dir);

    mf_simulator *sim = NULL;
    CHECK(mf_simulator_start("{\"orders\": 3, \"offers\": 5, \"seed\": 4, \"enforce_rate_limits\": false}", &sim) == MF_OK);
    char *url = NULL;
    CHECK(mf_simulator_url(sim, &url) == MF_OK);
    char config[512];
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\", "
             "\"timeout_s\": 5, \"rate_limit\": false}",
             url);
    mf_string_free(url);
    mf_client *client = NULL;
    CHECK(mf_client_new(config, &client) == MF_OK);
    mf_store *store = NULL;
    CHECK(mf_store_open(db, &store) == MF_OK);

    char *orders = NULL;
    CHECK(mf_simulator_orders(sim, &orders) == MF_OK);
    long id = orders ? json_number(orders, "id") : -1;
    mf_string_free(orders);
    CHECK(id > 0);

    char query[256];
    int status = 0;
    char *body = NULL;
    snprintf(query, sizeof query, "order_id=%ld&token=%s", id, TOKEN);
    CHECK(mf_callback_handle(store, query, client, TOKEN, &status, &body) == MF_OK);
    CHECK(status == 200 && body != NULL && strcmp(body, "OK") == 0);
    mf_string_free(body);
    body = NULL;
    snprintf(query, sizeof query, "order_id=%ld&token=wrong-token-of-some-length", id);
    CHECK(mf_callback_handle(store, query, client, TOKEN, &status, &body) == MF_OK);
    CHECK(status == 403);
    mf_string_free(body);
    body = NULL;
    CHECK(mf_callback_handle(store, "order_id=0", client, "short", &status, &body) == MF_ERR_INVALID_ARGUMENT);
    CHECK(body == NULL);
    CHECK(mf_callback_handle(NULL, "order_id=1", client, TOKEN, &status, &body) != MF_OK);
    CHECK(mf_callback_handle(store, NULL, client, TOKEN, &status, &body) != MF_OK);

    mf_callback_worker *worker = NULL;
    CHECK(mf_callback_worker_start(client, store, "{\"bogus\": 1}", &worker) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_callback_worker_start(client, store, "{\"acknowledge\": false, \"poll_interval_s\": 0.05}", &worker) == MF_OK);
    char *stats = NULL;
    for (int i = 0; i < 400; i++) {
        CHECK(mf_callback_stats(store, &stats) == MF_OK);
        long pending = json_number(stats, "pending");
        mf_string_free(stats);
        stats = NULL;
        if (pending == 0) break;
        struct timespec pause = {0, 25 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    mf_callback_worker_stop(worker);
    mf_callback_worker_stop(NULL);
    CHECK(mf_callback_stats(store, &stats) == MF_OK);
    CHECK(json_number(stats, "done") == 1 && json_number(stats, "received") == 1);
    mf_string_free(stats);
    char *order = NULL;
    CHECK(mf_store_get_order(store, id, &order) == MF_OK && order != NULL);
    mf_string_free(order);

    mf_store_free(store);
    mf_client_free(client);
    mf_simulator_free(sim);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("test_callbacks");
}
