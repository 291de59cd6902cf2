/* Configuration errors through the C ABI name the field (never its value), and a password
 * pasted into base_url never reaches an error message (issue 15 item 10, issue 16 item 10). */
#include <stdio.h>
#include <string.h>

#include "magflow_emag.h"

#include "check.h"

static const char *refused(const char *config_json) {
    mf_client *client = NULL;
    mf_status st = mf_client_new(config_json, &client);
    CHECK(st == MF_ERR_INVALID_ARGUMENT);
    CHECK(client == NULL);
    const char *message = mf_last_error_message();
    CHECK(message != NULL);
    return message ? message : "";
}

int main(void) {
    const char *m = refused("{\"username\":\"u\"}");
    CHECK(strstr(m, "password") != NULL);

    m = refused("{\"username\":\"u\",\"password\":987654321}");
    CHECK(strstr(m, "password") != NULL);
    CHECK(strstr(m, "987654321") == NULL);

    m = refused("{\"username\":\"u\",\"password\":\"p\",\"retry\":{\"max_retries\":\"s3cr3t\"}}");
    CHECK(strstr(m, "retry.max_retries") != NULL);
    CHECK(strstr(m, "s3cr3t") == NULL);

    m = refused("{\"username\":\"u\",\"password\":\"p\",\"base_url\":\"https://u:hunter2-pw@[bad/api-3\"}");
    CHECK(strstr(m, "base_url") != NULL);
    CHECK(strstr(m, "hunter2") == NULL);

    return check_summary("test_config_errors");
}
