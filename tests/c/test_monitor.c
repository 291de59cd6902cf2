/* The standalone monitor through the C ABI: create, record, health JSON, Prometheus text,
 * errors and ownership (run under valgrind by `make ctest`). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "magflow_emag.h"

#include "check.h"

#define THREADS 4
#define PER_THREAD 1000

static void *recorder(void *arg) {
    mf_monitor *m = (mf_monitor *)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (mf_monitor_record_request(m, "order", "read", 10.0 + i % 50, i % 100 != 0) != MF_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

int main(void) {
    /* Defaults (NULL config): no traffic is healthy. */
    mf_monitor *m = NULL;
    CHECK(mf_monitor_new(NULL, &m) == MF_OK && m != NULL);
    char *json = NULL;
    CHECK(mf_monitor_health_json(m, &json) == MF_OK && json != NULL);
    CHECK(strstr(json, "\"status\":\"healthy\"") != NULL);
    CHECK(strstr(json, "\"health_score\":100.0") != NULL);
    CHECK(strstr(json, "\"timestamp\":\"") != NULL);
    mf_string_free(json);
    mf_monitor_free(m);

    /* A configured monitor fed with failures raises the error-rate alert. */
    m = NULL;
    CHECK(mf_monitor_new("{\"window_seconds\": 60, \"thresholds\": {\"min_samples\": 5}}", &m) == MF_OK);
    for (int i = 0; i < 10; i++) {
        CHECK(mf_monitor_record(m, 120.0, i % 2 == 0) == MF_OK);
    }
    CHECK(mf_monitor_record_sync(m, "orders", true, 2.5, 42) == MF_OK);
    json = NULL;
    CHECK(mf_monitor_health_json(m, &json) == MF_OK && json != NULL);
    CHECK(strstr(json, "\"high_error_rate\"") != NULL);
    CHECK(strstr(json, "\"requests\":10") != NULL);
    CHECK(strstr(json, "\"window_seconds\":60.0") != NULL);
    mf_string_free(json);

    char *text = NULL;
    CHECK(mf_monitor_prometheus_text(m, &text) == MF_OK && text != NULL);
    CHECK(strstr(text, "# TYPE magflow_emag_requests_total counter") != NULL);
    CHECK(strstr(text, "magflow_emag_requests_total{resource=\"\",action=\"\",outcome=\"error\"} 5") != NULL);
    CHECK(strstr(text, "magflow_emag_sync_items_total{kind=\"orders\"} 42") != NULL);
    CHECK(strstr(text, "magflow_emag_health_score ") != NULL);
    mf_string_free(text);

    /* Concurrent records from several threads add up exactly. */
    mf_monitor *shared = NULL;
    CHECK(mf_monitor_new("{}", &shared) == MF_OK);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_create(&threads[t], NULL, recorder, shared) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *rc = NULL;
        pthread_join(threads[t], &rc);
        CHECK(rc == NULL);
    }
    json = NULL;
    CHECK(mf_monitor_metrics_json(shared, &json) == MF_OK);
    CHECK(json != NULL && strstr(json, "\"requests\":4000,") != NULL);
    CHECK(json != NULL && strstr(json, "\"errors\":40,") != NULL);
    mf_string_free(json);
    mf_monitor_free(shared);

    /* Errors: clear status, message, outputs untouched. */
    CHECK(mf_monitor_record(m, -1.0, true) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "latency_ms") != NULL);
    CHECK(mf_monitor_record(m, NAN, true) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_record(NULL, 1.0, true) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_record_request(m, NULL, "read", 1.0, true) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_record_sync(m, "orders", true, -2.0, 0) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_health_json(m, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_prometheus_text(NULL, &text) == MF_ERR_INVALID_ARGUMENT);
    mf_monitor *bad = NULL;
    CHECK(mf_monitor_new("{\"window_seconds\": 0}", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_monitor_new("{\"no_such_field\": 1}", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "no_such_field") != NULL);
    CHECK(mf_monitor_new("not json", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_monitor_new(NULL, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_monitor_record(m, 1.0, true) == MF_OK);
    CHECK(mf_last_error_message() == NULL);

    mf_monitor_free(m);
    mf_monitor_free(NULL); /* no-op */

    return check_summary("test_monitor");
}
