/* test_process_stats.c - a process's own stats, their JSON both ways, and
 * the process_* families written once with a sample per process. */
#include "rill_process_stats.h"
#include "rill_test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    /* This very process. */
    rill_process_stats_t stats;
    CHECK(rill_process_stats_read(&stats) == 0);
    CHECK(stats.resident_bytes > 100 * 1024);
    CHECK(stats.virtual_bytes >= stats.resident_bytes);
    CHECK(stats.open_fds >= 3); /* stdin, stdout, stderr */
    CHECK(stats.max_fds >= stats.open_fds);
    double now = (double)time(NULL);
    CHECKF(stats.start_time_seconds > now - 120 && stats.start_time_seconds <= now + 2, "start %f, now %f",
           stats.start_time_seconds, now);
    CHECK(strcmp(stats.version, rill_build_version) == 0 && stats.version[0] != '\0');
    CHECK(stats.commit[0] != '\0');
    /* A descriptor more is seen. */
    int fd = open("/dev/null", O_RDONLY);
    rill_process_stats_t more;
    CHECK(fd >= 0 && rill_process_stats_read(&more) == 0 && more.open_fds == stats.open_fds + 1);
    close(fd);
    /* CPU time grows with work. */
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 300000000ul; i++)
        spin += i;
    CHECK(rill_process_stats_read(&more) == 0 && more.cpu_seconds > stats.cpu_seconds);

    /* JSON both ways. */
    char json[512];
    CHECK(rill_process_stats_to_json(&stats, json, sizeof(json)) == 0);
    rill_process_stats_t back;
    CHECK(rill_process_stats_from_json(json, strlen(json), &back) == 0);
    CHECK(back.resident_bytes == stats.resident_bytes && back.open_fds == stats.open_fds &&
          back.max_fds == stats.max_fds && back.virtual_bytes == stats.virtual_bytes);
    CHECK(back.cpu_seconds > stats.cpu_seconds - 0.01 && back.cpu_seconds < stats.cpu_seconds + 0.01);
    CHECK(strcmp(back.version, stats.version) == 0 && strcmp(back.commit, stats.commit) == 0);
    CHECK(rill_process_stats_to_json(&stats, json, 20) == -1); /* does not fit */
    /* From a peer: anything wrong is left 0 or empty, never trusted. */
    const char *odd = "{\"resident_bytes\":-5,\"open_fds\":\"many\",\"max_fds\":1e30,"
                      "\"version\":\"1.0\\\"} 1\\nevil{\",\"commit\":7}";
    CHECK(rill_process_stats_from_json(odd, strlen(odd), &back) == 0);
    CHECK(back.resident_bytes == 0 && back.open_fds == 0 && back.max_fds == 0);
    CHECK(strcmp(back.version, "1.01evil") == 0); /* only label-safe characters */
    CHECK(back.commit[0] == '\0');
    CHECK(rill_process_stats_from_json("[1]", 3, &back) == -1);
    CHECK(rill_process_stats_from_json("{", 1, &back) == -1);

    /* Each family once, a sample per process. */
    rill_process_stats_t worker = stats;
    worker.commit[0] = '\0';
    rill_process_sample_t samples[] = {{"process=\"frontend\",pid=\"1\"", &stats},
                                       {"process=\"worker\",worker=\"w\"", &worker}};
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_process_stats_render(&text, samples, 2);
    rill_buffer_append(&text, "", 1);
    CHECK(!text.failed);
    const char *families[] = {"process_cpu_seconds_total", "process_resident_memory_bytes",
                              "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                              "process_start_time_seconds", "rill_build_info"};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "# TYPE %s ", families[i]);
        CHECKF(rill_test_count_of(text.data, line) == 1, "%s", families[i]);
        snprintf(line, sizeof(line), "\n%s{", families[i]);
        CHECKF(rill_test_count_of(text.data, line) == 2, "%s", families[i]);
    }
    CHECK(strstr(text.data, "rill_build_info{process=\"worker\",worker=\"w\",version=\"") != NULL);
    CHECK(strstr(text.data, ",commit=\"unknown\"} 1\n") != NULL);
    rill_buffer_release(&text);
    RILL_TEST_END();
}
