/* Validation through the C ABI: valid and invalid documents, malformed JSON, non-UTF-8 bytes,
 * NULL pointers, and freeing every returned string (run under valgrind by `make ctest`). */
#include <stdio.h>
#include <string.h>

#include "magflow_emag.h"

#include "check.h"

static const char *ORDER =
    "{\"id\": 300000123, \"status\": 2, \"type\": 3, \"payment_mode_id\": 1,"
    " \"date\": \"2025-08-01 10:00:00\", \"modified\": \"2025-08-01 12:00:00\","
    " \"customer\": {\"name\": \"Ana Popescu\", \"phone_1\": \"0722123456\", \"email\": \"a1@marketplace.emag.ro\"},"
    " \"products\": [{\"id\": 171000001, \"product_id\": 1001, \"quantity\": 2, \"sale_price\": \"49.9900\","
    " \"status\": 1, \"vat\": \"0.2100\"}]}";

static const char *BAD_ORDER =
    "{\"id\": 300000123, \"status\": 2, \"type\": 3, \"payment_mode_id\": 1,"
    " \"customer\": {\"name\": \"Ana\", \"phone_1\": \"0722123456\"},"
    " \"products\": [{\"id\": 1, \"quantity\": 1, \"sale_price\": 1, \"status\": 1},"
    " {\"id\": 2, \"quantity\": 1, \"sale_price\": 1, \"status\": 1},"
    " {\"id\": 3, \"quantity\": -1, \"sale_price\": 1, \"status\": 1}]}";

/* Check a status, and that out contains `needle`; free out. */
static void expect_out(mf_status status, char *out, const char *needle) {
    CHECK(status == MF_OK);
    CHECK(out != NULL);
    if (out != NULL && strstr(out, needle) == NULL) {
        fprintf(stderr, "  expected %s in %s\n", needle, out);
        failures++;
    }
    mf_string_free(out);
}

/* Run `call` (which writes `out`) first, then check what it wrote. */
#define EXPECT(call, needle)                  \
    do {                                      \
        out = NULL;                           \
        mf_status status_ = (call);           \
        expect_out(status_, out, needle);     \
        out = NULL;                           \
    } while (0)

int main(void) {
    char *out = NULL;

    /* Valid and invalid orders. */
    CHECK(mf_validate_order(ORDER, &out) == MF_OK);
    CHECK(out != NULL && strcmp(out, "[]") == 0);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_order(BAD_ORDER, &out), "products[2].quantity: must be > 0, got -1");
    out = NULL;
    CHECK(mf_validate_order(BAD_ORDER, &out) == MF_OK);
    printf("invalid order: %s\n", out ? out : "(null)");
    mf_string_free(out);

    /* Malformed JSON and non-UTF-8 bytes are data that fails: MF_OK with a message. */
    out = NULL;
    CHECK(mf_validate_order("{\"id\": ", &out) == MF_OK);
    CHECK(out != NULL && strstr(out, "order_json: is not valid JSON") != NULL);
    mf_string_free(out);
    out = NULL;
    const char latin1[] = {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (char)0xe9, '"', '}', 0};
    CHECK(mf_validate_order(latin1, &out) == MF_OK);
    CHECK(out != NULL && strstr(out, "not valid UTF-8") != NULL);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_order("[1, 2]", &out), "order: must be an object, got a list");

    /* NULL pointers: invalid argument, nothing written. */
    out = NULL;
    CHECK(mf_validate_order(NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "order_json") != NULL);
    CHECK(mf_validate_order(ORDER, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_validate_offer(NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_validate_awb(NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_validate_bulk_order_update(NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_validate_order_for_update(NULL, NULL, NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_validate_order_cancellation(1, 1, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL);

    /* Updates: with and without the current order, and the time. */
    const char *current =
        "{\"id\": 300000123, \"status\": 4, \"type\": 3, \"payment_mode_id\": 1, \"modified\": \"2025-08-01 12:00:00\","
        " \"products\": [{\"id\": 171000001, \"product_id\": 1001, \"quantity\": 2, \"sale_price\": \"49.9900\", \"status\": 1}]}";
    const char *back =
        "{\"id\": 300000123, \"status\": 3, \"type\": 3, \"payment_mode_id\": 1,"
        " \"products\": [{\"id\": 171000001, \"product_id\": 1001, \"quantity\": 2, \"sale_price\": \"49.9900\", \"status\": 1}]}";
    out = NULL;
    CHECK(mf_validate_order_for_update(back, current, "2025-08-03 11:00:00", &out) == MF_OK);
    CHECK(out != NULL && strcmp(out, "[]") == 0);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_order_for_update(back, current, "2025-08-03T10:30:00Z", &out), "within 48 hours");
    out = NULL;
    CHECK(mf_validate_order_for_update(back, NULL, NULL, &out) == MF_OK);
    CHECK(out != NULL && strcmp(out, "[]") == 0);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_order_for_update(back, current, "soon", &out), "now: must be");
    out = NULL;
    EXPECT(mf_validate_order_for_update(back, "{oops", NULL, &out), "current_json: is not valid JSON");

    /* Cancellations: the 32 codes, and anything else. */
    int codes[] = {1, 2, 3, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                   28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        out = NULL;
        CHECK(mf_validate_order_cancellation(300000123, codes[i], &out) == MF_OK);
        CHECK(out != NULL && strcmp(out, "[]") == 0);
        mf_string_free(out);
    }
    int bad_codes[] = {0, 4, 14, 44, -1};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        out = NULL;
        EXPECT(mf_validate_order_cancellation(300000123, bad_codes[i], &out), "cancellation reason");
    }

    /* Bulk: an object keyed by order id. */
    out = NULL;
    CHECK(mf_validate_bulk_order_update("[]", &out) == MF_OK);
    CHECK(out != NULL && strcmp(out, "{}") == 0);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_bulk_order_update("[{\"id\": 77, \"status\": 1, \"type\": 3}, 5]", &out),
           "\"77\":[\"status: ");
    out = NULL;
    EXPECT(mf_validate_bulk_order_update("[{\"id\": 77, \"status\": 1, \"type\": 3}, 5]", &out), "\"[1]\":");
    out = NULL;
    EXPECT(mf_validate_bulk_order_update("nope", &out), "\"orders\":");

    /* Offers and AWBs. */
    const char *offer = "{\"id\": 1001, \"status\": 1, \"sale_price\": \"99.5\", \"vat_id\": 1,"
                        " \"stock\": [{\"warehouse_id\": 1, \"value\": 3}]}";
    out = NULL;
    CHECK(mf_validate_offer(offer, &out) == MF_OK);
    CHECK(out != NULL && strcmp(out, "[]") == 0);
    mf_string_free(out);
    out = NULL;
    EXPECT(mf_validate_offer_as(offer, "update", &out), "handling_time: is required");
    out = NULL;
    EXPECT(mf_validate_offer_as("{\"id\": 1, \"brand\": \"x\"}", "light", &out), "does not take the key");
    out = NULL;
    CHECK(mf_validate_offer_as(offer, "patch", &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL);
    out = NULL;
    EXPECT(mf_validate_awb("{\"order_id\": 1}", &out), "is_oversize: is required");

    return check_summary("test_validate");
}
