/* store_checks.h: what every store engine must do after a sync, checked the same way for
 * SQLite (test_store_backup.c) and PostgreSQL (test_store_pg.c). */
#ifndef MF_TESTS_STORE_CHECKS_H
#define MF_TESTS_STORE_CHECKS_H

#include "check.h"
#include "json_text.h"
#include "magflow_emag.h"

/* Sync `orders` orders (acknowledging the new ones) and `offers` offers from the simulator
 * behind `client` into an empty `store`, then read one order back by id and miss another. */
static void check_sync_into_store(mf_client *client, mf_store *store, long orders, long offers) {
    char *summary = NULL;
    CHECK(mf_sync_orders(client, store, "{\"acknowledge\": true}", &summary) == MF_OK);
    CHECK(summary != NULL && strstr(summary, "\"status\":\"success\"") != NULL);
    CHECK(json_number(summary, "fetched") == orders && json_number(summary, "created") == orders);
    CHECK(json_number(summary, "acknowledged") > 0);
    mf_string_free(summary);
    summary = NULL;
    CHECK(mf_sync_offers(client, store, NULL, &summary) == MF_OK);
    CHECK(json_number(summary, "fetched") == offers);
    mf_string_free(summary);
    uint64_t count = 0;
    CHECK(mf_store_count_orders(store, &count) == MF_OK && count == (uint64_t)orders);

    char *read = NULL;
    CHECK(mf_client_call(client, "order", "read", "{\"itemsPerPage\": 1}", &read) == MF_OK);
    long some_id = json_number(read, "id");
    mf_string_free(read);
    char *order = NULL;
    CHECK(mf_store_get_order(store, some_id, &order) == MF_OK && order != NULL);
    CHECK(json_number(order, "id") == some_id);
    mf_string_free(order);
    order = NULL;
    CHECK(mf_store_get_order(store, 1, &order) == MF_ERR_NOT_FOUND && order == NULL);
}

#endif
