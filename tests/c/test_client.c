/* The client through the C ABI against the simulator: calls, errors, ownership, and one
 * handle shared by several threads. Uses only the committed header. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magflow_emag.h"

#include "check.h"

static mf_client *shared_client = NULL;

static void *reader(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        char *json = NULL;
        mf_status st = mf_client_call(shared_client, "order", "read", "{\"itemsPerPage\": 3}", &json);
        CHECK(st == MF_OK);
        CHECK(json != NULL && json[0] == '[' && strstr(json, "\"id\"") != NULL);
        mf_string_free(json);
    }
    return NULL;
}

int main(void) {
    mf_simulator *sim = NULL;
    CHECK(mf_simulator_start("{\"orders\": 40, \"offers\": 5, \"seed\": 1, \"enforce_rate_limits\": false}", &sim) == MF_OK);
    char *url = NULL;
    CHECK(mf_simulator_url(sim, &url) == MF_OK);

    char config[512];
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\", "
             "\"timeout_s\": 5, \"retry\": {\"max_retries\": 1, \"base_delay\": 0.001, \"max_delay\": 0.01}}",
             url);
    CHECK(mf_client_new(config, &shared_client) == MF_OK);

    /* One call, results as JSON owned by the caller. */
    char *vat = NULL;
    CHECK(mf_client_call(shared_client, "vat", "read", NULL, &vat) == MF_OK);
    CHECK(vat != NULL && vat[0] == '[');
    mf_string_free(vat);

    /* Several threads on one handle. */
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, reader, NULL);
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);

    /* Errors: validation before sending, bad JSON, NULLs, isError from eMAG. */
    char *out = NULL;
    CHECK(mf_client_call(shared_client, "order", "read", "{\"itemsPerPage\": 500}", &out) == MF_ERR_VALIDATION);
    CHECK(out == NULL);
    CHECK(strstr(mf_last_error_message(), "itemsPerPage") != NULL);
    CHECK(mf_client_call(shared_client, "order", "read", "{not json", &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_call(NULL, "order", "read", NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_call(shared_client, NULL, "read", NULL, &out) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_call(shared_client, "order", "read", NULL, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_call(shared_client, "offer", "save", "[{\"id\": 99999999}]", &out) == MF_ERR_API_RESPONSE);
    CHECK(out == NULL);

    /* Wrong credentials: an authentication error naming both causes, without the password. */
    mf_client *bad = NULL;
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"WrongPass-123\", \"base_url\": \"%s\"}", url);
    CHECK(mf_client_new(config, &bad) == MF_OK);
    CHECK(mf_client_call(bad, "vat", "read", NULL, &out) == MF_ERR_AUTHENTICATION);
    const char *msg = mf_last_error_message();
    CHECK(msg != NULL && strstr(msg, "IP") != NULL && strstr(msg, "WrongPass-123") == NULL);
    mf_client_free(bad);

    /* Bad configurations. */
    mf_client *none = NULL;
    CHECK(mf_client_new("{\"username\": \"u\"}", &none) == MF_ERR_INVALID_ARGUMENT && none == NULL);
    CHECK(mf_client_new("{\"username\": \"u\", \"password\": \"p\", \"base_url\": \"http://example.com\"}", &none) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_new(NULL, &none) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_new("{}", NULL) == MF_ERR_INVALID_ARGUMENT);

    /* The client's monitor saw every request. */
    char *health = NULL;
    CHECK(mf_client_health_json(shared_client, &health) == MF_OK);
    CHECK(health != NULL && strstr(health, "\"health_score\"") != NULL && strstr(health, "\"status\"") != NULL);
    mf_string_free(health);
    char *prom = NULL;
    CHECK(mf_client_prometheus_text(shared_client, &prom) == MF_OK);
    CHECK(prom != NULL && strstr(prom, "magflow_emag_requests_total{resource=\"order\",action=\"read\"") != NULL);
    mf_string_free(prom);
    CHECK(mf_client_health_json(NULL, &health) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_client_prometheus_text(shared_client, NULL) == MF_ERR_INVALID_ARGUMENT);

    /* The deprecated aliases (kept for one release) still answer the same. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    health = NULL;
    CHECK(mf_monitor_health(shared_client, &health) == MF_OK);
    CHECK(health != NULL && strstr(health, "\"health_score\"") != NULL);
    mf_string_free(health);
    prom = NULL;
    CHECK(mf_monitor_prometheus(shared_client, &prom) == MF_OK);
    CHECK(prom != NULL && strstr(prom, "magflow_emag_requests_total") != NULL);
    mf_string_free(prom);
    CHECK(mf_monitor_health(NULL, &health) == MF_ERR_INVALID_ARGUMENT);
#pragma GCC diagnostic pop

    mf_client_free(shared_client);
    mf_client_free(NULL);
    mf_string_free(url);
    mf_simulator_free(sim);
    return check_summary("test_client");
}
