/* The simulator through the C ABI: start, URL, credentials, a real HTTP call over a plain
 * socket, stats, faults, errors, free. Uses only the committed header. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "magflow_emag.h"

#include "check.h"

/* POST /api-3/<path> with Basic auth (sim-user:sim-password) and a form body; returns the
 * HTTP status and copies the response into buf. */
static int http_post(int port, const char *path, const char *auth_b64, const char *body, char *buf, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /api-3/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     path, auth_b64, strlen(body), body);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, buf + got, cap - 1 - got)) > 0) got += (size_t)r;
    buf[got] = '\0';
    close(fd);
    int status = -1;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) return -1;
    return status;
}

static int port_of(const char *url) {
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : -1;
}

int main(void) {
    mf_simulator *sim = NULL;
    CHECK(mf_simulator_start("{\"orders\": 20, \"offers\": 5, \"seed\": 7, \"enforce_rate_limits\": false}", &sim) == MF_OK);
    CHECK(sim != NULL);
    if (sim == NULL) return 1;

    char *url = NULL;
    CHECK(mf_simulator_url(sim, &url) == MF_OK);
    CHECK(url != NULL && strncmp(url, "http://127.0.0.1:", 17) == 0);
    CHECK(url != NULL && strstr(url, "/api-3") != NULL);
    printf("simulator at %s\n", url ? url : "(null)");
    int port = url ? port_of(url) : -1;
    mf_string_free(url);

    char *creds = NULL;
    CHECK(mf_simulator_credentials(sim, &creds) == MF_OK);
    CHECK(creds != NULL && strstr(creds, "\"username\":\"sim-user\"") != NULL);
    mf_string_free(creds);

    /* base64("sim-user:sim-password") */
    const char *auth = "c2ltLXVzZXI6c2ltLXBhc3N3b3Jk";
    static char buf[1 << 20];
    int status = http_post(port, "order/read", auth, "data%5BitemsPerPage%5D=2", buf, sizeof buf);
    CHECK(status == 200);
    CHECK(strstr(buf, "\"isError\":false") != NULL);
    status = http_post(port, "order/read", "d3Jvbmc6d3Jvbmc=", "", buf, sizeof buf);
    CHECK(status == 403);
    CHECK(strstr(buf, "You are not allowed to use this API.") != NULL);

    CHECK(mf_simulator_inject(sim, "http_503", 1, "order", NULL) == MF_OK);
    status = http_post(port, "order/count", auth, "", buf, sizeof buf);
    CHECK(status == 503);
    CHECK(mf_simulator_inject(sim, "meteor", 1, NULL, NULL) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_last_error_message() != NULL && strstr(mf_last_error_message(), "unknown fault") != NULL);

    char *stats = NULL;
    CHECK(mf_simulator_stats(sim, &stats) == MF_OK);
    CHECK(stats != NULL && strstr(stats, "\"requests_total\":3") != NULL);
    CHECK(stats != NULL && strstr(stats, "\"max_in_any_second\"") != NULL);
    if (stats) printf("stats: %.120s...\n", stats);
    mf_string_free(stats);

    char *orders = NULL;
    CHECK(mf_simulator_orders(sim, &orders) == MF_OK);
    CHECK(orders != NULL && orders[0] == '[' && strstr(orders, "\"customer\"") != NULL);
    mf_string_free(orders);

    CHECK(mf_simulator_reset_stats(sim) == MF_OK);
    stats = NULL;
    CHECK(mf_simulator_stats(sim, &stats) == MF_OK);
    CHECK(stats != NULL && strstr(stats, "\"requests_total\":0") != NULL);
    mf_string_free(stats);

    /* Errors: NULL handles and outputs, bad config; outputs untouched on failure. */
    char *untouched = NULL;
    CHECK(mf_simulator_url(NULL, &untouched) == MF_ERR_INVALID_ARGUMENT && untouched == NULL);
    CHECK(mf_simulator_stats(sim, NULL) == MF_ERR_INVALID_ARGUMENT);
    mf_simulator *bad = NULL;
    CHECK(mf_simulator_start("{\"oders\": 1}", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_simulator_start("{not json", &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_simulator_start(NULL, NULL) == MF_ERR_INVALID_ARGUMENT);

    /* Defaults with a NULL config. */
    mf_simulator *plain = NULL;
    CHECK(mf_simulator_start(NULL, &plain) == MF_OK && plain != NULL);
    mf_simulator_free(plain);

    mf_simulator_free(sim);
    mf_simulator_free(NULL);

    return check_summary("test_sim");
}
