/* Reference codes and errors through the C ABI, using only the committed header. */
#include <stdio.h>
#include <string.h>

#include "magflow_emag.h"

#include "check.h"

int main(void) {
    const char *version = mf_version();
    CHECK(version != NULL && strlen(version) >= 5);
    printf("magflow-emag %s\n", version);

    const char *reason = mf_cancellation_reason_text(1, "en");
    CHECK(reason != NULL && strcmp(reason, "Out of stock") == 0);
    printf("reason 1: %s\n", reason ? reason : "(null)");
    /* Static: the same pointer every time, never freed. */
    CHECK(mf_cancellation_reason_text(1, "en") == reason);

    const char *ro = mf_cancellation_reason_text(43, "ro");
    CHECK(ro != NULL && strcmp(ro, "Termenul estimat de livrare este prea lung") == 0);

    CHECK(mf_cancellation_reason_text(999, "en") == NULL);
    CHECK(mf_cancellation_reason_text(4, "en") == NULL);
    CHECK(mf_cancellation_reason_text(1, "de") == NULL);
    CHECK(mf_cancellation_reason_text(1, NULL) == NULL);

    int codes[] = {1, 2, 3, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                   28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK(mf_cancellation_reason_text(codes[i], "en") != NULL);
        CHECK(mf_cancellation_reason_text(codes[i], "ro") != NULL);
    }

    /* The whole table as JSON, freed by the caller. */
    char *json = NULL;
    CHECK(mf_cancellation_reasons("ro", &json) == MF_OK);
    CHECK(json != NULL && strstr(json, "\"43\":\"Termenul estimat de livrare este prea lung\"") != NULL);
    mf_string_free(json);
    json = NULL;
    CHECK(mf_cancellation_reasons("klingon", &json) == MF_ERR_INVALID_ARGUMENT);
    CHECK(json == NULL); /* outputs are written only on success */
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "language") != NULL);
    CHECK(mf_cancellation_reasons("en", NULL) == MF_ERR_INVALID_ARGUMENT);

    const char *rule = NULL;
    CHECK(mf_transition_rule(4, 5, &rule) == MF_OK && strcmp(rule, "within_return_time_plus_5_days") == 0);
    CHECK(mf_transition_rule(1, 2, &rule) == MF_OK && strcmp(rule, "ack_only") == 0);
    CHECK(mf_last_error_message() == NULL);
    CHECK(mf_transition_rule(9, 2, &rule) == MF_ERR_INVALID_ARGUMENT);

    CHECK(MF_OK == 0);
    CHECK(strcmp(mf_status_name(MF_ERR_NETWORK), "MF_ERR_NETWORK") == 0);
    CHECK(strcmp(mf_status_name(12345), "MF_UNKNOWN_STATUS") == 0);
    mf_string_free(NULL); /* no-op */

    return check_summary("test_codes");
}
