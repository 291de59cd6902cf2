/* The store, the main job and backups through the C ABI: a real sync from the simulator into
 * a real SQLite file, a backup, a damaged copy refused with the store unchanged, a restore,
 * NULL and bad-argument handling, and ownership of every returned string. Uses only the
 * committed header. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magflow_emag.h"

#include "check.h"
#include "store_checks.h"

/* Copy the string value of "filename" into out. */
static void json_filename(const char *json, char *out, size_t size) {
    const char *at = strstr(json, "\"filename\":\"");
    out[0] = '\0';
    if (at) {
        at += strlen("\"filename\":\"");
        size_t n = strcspn(at, "\"");
        if (n < size) {
            memcpy(out, at, n);
            out[n] = '\0';
        }
    }
}

int main(void) {
    char dir[] = "/tmp/mf-c-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char db[256], backups[256], other_db[256];
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(other_db, sizeof other_db, "%s/other.db", dir);
    snprintf(backups, sizeof backups, "%s/backups", dir);

    mf_simulator *sim = NULL;
    CHECK(mf_simulator_start("{\"orders\": 60, \"offers\": 10, \"seed\": 2, \"enforce_rate_limits\": false}", &sim) == MF_OK);
    char *url = NULL;
    CHECK(mf_simulator_url(sim, &url) == MF_OK);
    char config[512];
    snprintf(config, sizeof config,
             "{\"username\": \"sim-user\", \"password\": \"sim-password\", \"base_url\": \"%s\", "
             "\"timeout_s\": 5}",
             url);
    mf_client *client = NULL;
    CHECK(mf_client_new(config, &client) == MF_OK);

    /* Open, sync, read back. */
    mf_store *store = NULL;
    CHECK(mf_store_open(db, &store) == MF_OK && store != NULL);
    check_sync_into_store(client, store, 60, 10);

    /* The read API: JSON lines, paged by cursor. */
    char *lines = NULL;
    int64_t cursor = 0;
    CHECK(mf_store_orders(store, "{\"limit\": 40}", &lines, &cursor) == MF_OK && lines != NULL);
    CHECK(count_lines(lines) == 40 && cursor > 0 && lines[0] == '{');
    mf_string_free(lines);
    char next_query[64];
    snprintf(next_query, sizeof next_query, "{\"after\": %lld}", (long long)cursor);
    CHECK(mf_store_orders(store, next_query, &lines, NULL) == MF_OK);
    CHECK(count_lines(lines) == 20);
    mf_string_free(lines);
    lines = NULL;
    CHECK(mf_store_orders(store, "{\"status\": \"x\"}", &lines, NULL) == MF_ERR_INVALID_ARGUMENT && lines == NULL);
    CHECK(mf_store_offers(store, NULL, &lines, NULL) == MF_OK);
    CHECK(count_lines(lines) == 10);
    mf_string_free(lines);

    /* Bad options and NULLs: clear errors, nothing written. */
    char *summary = NULL;
    CHECK(mf_sync_orders(client, store, "{\"typo\": 1}", &summary) == MF_ERR_INVALID_ARGUMENT);
    CHECK(summary == NULL && strstr(mf_last_error_message(), "typo") != NULL);
    CHECK(mf_sync_orders(NULL, store, NULL, &summary) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_sync_orders(client, store, NULL, NULL) == MF_ERR_INVALID_ARGUMENT);
    mf_store *bad = NULL;
    CHECK(mf_store_open(NULL, &bad) == MF_ERR_INVALID_ARGUMENT && bad == NULL);
    CHECK(mf_store_open("/nonexistent-dir/x/y.db", &bad) == MF_ERR_STORE && bad == NULL);

    /* Backup, list, verify. */
    char *info = NULL;
    CHECK(mf_backup_create(store, backups, NULL, &info) == MF_OK && info != NULL);
    char name[128];
    json_filename(info, name, sizeof name);
    CHECK(strncmp(name, "emag_backup_", 12) == 0);
    CHECK(strstr(info, "\"sha256\":\"") != NULL);
    mf_string_free(info);
    char *list = NULL;
    CHECK(mf_backup_list(backups, &list) == MF_OK && strstr(list, name) != NULL);
    CHECK(strstr(list, "\"sound\":true") != NULL);
    mf_string_free(list);
    char *verified = NULL;
    CHECK(mf_backup_verify(backups, name, &verified) == MF_OK && strstr(verified, "\"valid\":true") != NULL);
    mf_string_free(verified);
    info = NULL;
    CHECK(mf_backup_create(store, backups, "{\"format\": \"sqlite\", \"include\": [\"orders\"]}", &info) == MF_OK);
    CHECK(strstr(info, ".sqlite\"") != NULL && json_number(info, "orders") == 60);
    mf_string_free(info);
    info = NULL;
    CHECK(mf_backup_create(store, backups, "{\"format\": \"zip\"}", &info) == MF_ERR_INVALID_ARGUMENT && info == NULL);

    /* A truncated copy: refused, the store left as it was. */
    char path[512], damaged[512];
    snprintf(path, sizeof path, "%s/%s", backups, name);
    snprintf(damaged, sizeof damaged, "%s/emag_backup_20250101_000000.json.gz", backups);
    FILE *in = fopen(path, "rb");
    FILE *out = fopen(damaged, "wb");
    CHECK(in != NULL && out != NULL);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n / 2, out);
    fclose(in);
    fclose(out);
    mf_store *other = NULL;
    CHECK(mf_store_open(other_db, &other) == MF_OK);
    char *report = NULL;
    CHECK(mf_backup_restore(other, backups, "emag_backup_20250101_000000.json.gz", NULL, &report) == MF_ERR_BACKUP);
    CHECK(report == NULL && strstr(mf_last_error_message(), "unchanged") != NULL);
    uint64_t count = 1;
    CHECK(mf_store_count_orders(other, &count) == MF_OK && count == 0);
    CHECK(mf_backup_verify(backups, "emag_backup_20250101_000000.json.gz", &verified) == MF_OK);
    CHECK(strstr(verified, "\"valid\":false") != NULL);
    mf_string_free(verified);
    CHECK(mf_backup_restore(other, backups, "../store.db", NULL, &report) == MF_ERR_INVALID_ARGUMENT);
    CHECK(mf_backup_restore(other, backups, name, "{\"mode\": \"sideways\"}", &report) == MF_ERR_INVALID_ARGUMENT);

    /* The good one restores. */
    CHECK(mf_backup_restore(other, backups, name, "{\"mode\": \"replace\"}", &report) == MF_OK);
    CHECK(report != NULL && json_number(report, "orders") == 60);
    mf_string_free(report);
    CHECK(mf_store_count_orders(other, &count) == MF_OK && count == 60);

    /* Cleanup: the damaged 2025 file is past any retention; the newest valid one stays. */
    char *cleaned = NULL;
    CHECK(mf_backup_cleanup(backups, 30.0, 1, &cleaned) == MF_OK);
    CHECK(strstr(cleaned, "emag_backup_20250101_000000.json.gz") != NULL);
    mf_string_free(cleaned);
    CHECK(mf_backup_cleanup(backups, -1.0, 1, &cleaned) == MF_ERR_INVALID_ARGUMENT);

    mf_store_free(other);
    mf_store_free(store);
    mf_store_free(NULL);
    mf_client_free(client);
    mf_string_free(url);
    mf_simulator_free(sim);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return check_summary("test_store_backup");
}
