/*
 * main.c - rill-worker's command line: flags, environment, config, then the
 * core loop (worker_core.c). Every flag has an environment twin so Docker
 * Compose and ./rill up start workers the same way.
 */
#include "health_file.h"
#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_log.h"
#include "rill_cpus.h"
#include "rill_quiet_cpu.h"
#include "rill_scheduler.h"
#include "timer_gap.h"
#include "worker_core.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rill-worker [options]\n"
            "Runs jobs the rill broker dispatches and publishes their parts.\n\n"
            "  --run-dir DIR     run directory of the ipc sockets (RILL_RUN_DIR, default ./run)\n"
            "  --workers EP      broker's worker endpoint (RILL_WORKERS_ENDPOINT,\n"
            "                    default ipc://DIR/workers.sock; tcp://host:port works too);\n"
            "                    EP,EP: a broker and its standby (docs/CONFIG.md)\n"
            "  --config FILE     configuration file (RILL_CONFIG; default: built-in defaults)\n"
            "  --name NAME       worker name in job status (RILL_WORKER_NAME, default host-pid)\n"
            "  --credit N        jobs held at most at once (RILL_WORKER_CREDIT, default 256)\n"
            "  --kinds LIST      comma-separated kinds to serve (RILL_WORKER_KINDS, default all)\n"
            "  --drain-ms N      on SIGTERM, time to finish held jobs before handing them back\n"
            "                    (RILL_WORKER_DRAIN_MS, default 10000)\n"
            "  --log LEVEL       error, warn, info or debug (RILL_LOG, default info)\n"
            "  --health-file F   the file the worker rewrites each heartbeat (RILL_WORKER_HEALTH_FILE,\n"
            "                    default DIR/health/NAME.json)\n"
            "  --check           start no worker: exit 0 when the worker of that file (--name or\n"
            "                    --health-file) is alive and joined to a broker, else 1 with the reason\n"
            "  --check-alive     the same, joined or not (a liveness probe)\n"
            "  --help            this text\n"
            "Env RILL_START_EPOCH_MS: the system's start (ms since the epoch; ./rill up sets it):\n"
            "log lines count ms from it, else from this process's start.\n"
            "Env RILL_SCHEDULER, RILL_PLACEMENT, RILL_CPUS, RILL_PLACEMENT_BUSY_PER_S: how and\n"
            "where it runs; RILL_WORKER_BUSY_PARTS_PER_S: from what rate it gathers parts for 2 ms\n"
            "instead of 1 (docs/CONFIG.md).\n"
            "Signals: SIGTERM drains (a second one hands held jobs back at once); SIGHUP reloads the config.\n");
}

static int parse_number(const char *text, uint64_t minimum, uint64_t maximum, uint64_t *value)
{
    char *end = NULL;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (text[0] == '\0' || text[0] == '-' || *end != '\0' || parsed < minimum || parsed > maximum)
        return -1;
    *value = parsed;
    return 0;
}

static const char *environment(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

/* A tail_root inside the run directory (the default, "tail") is created if
 * missing, so `./rill up` and a compose volume work without a manual step.
 * An absolute tail_root is the operator's: it is used as it is. */
static void prepare_tail_root(const rill_worker_options_t *options)
{
    if (options->config.tail_root[0] == '\0' || options->config.tail_root[0] == '/')
        return;
    char path[RILL_ENDPOINT_MAX + RILL_CONFIG_PATH_MAX + 2];
    snprintf(path, sizeof(path), "%s/%s", options->endpoints.run_dir, options->config.tail_root);
    if (mkdir(options->endpoints.run_dir, 0700) != 0 && errno != EEXIST)
        return; /* the run directory is the broker's to create; tail jobs will say not_found */
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        fprintf(stderr, "rill-worker: cannot create tail root %s: %s\n", path, strerror(errno));
}

int main(int argc, char **argv)
{
    rill_log_init("worker");
    rill_worker_options_t options;
    memset(&options, 0, sizeof(options));
    rill_endpoints_from_environment(&options.endpoints);
    rill_endpoints_allow_lists(&options.endpoints); /* a broker and its standby */
    const char *config_path = environment("RILL_CONFIG");
    const char *log_level = environment("RILL_LOG");
    const char *name = environment("RILL_WORKER_NAME");
    const char *credit = environment("RILL_WORKER_CREDIT");
    const char *drain = environment("RILL_WORKER_DRAIN_MS");
    options.kinds = environment("RILL_WORKER_KINDS");
    const char *health_file = environment("RILL_WORKER_HEALTH_FILE");
    int check = 0; /* 1: --check (joined), 2: --check-alive */

    static const struct option flags[] = {
        {"run-dir", required_argument, NULL, 'r'}, {"workers", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},  {"name", required_argument, NULL, 'n'},
        {"credit", required_argument, NULL, 'k'},  {"kinds", required_argument, NULL, 'K'},
        {"drain-ms", required_argument, NULL, 'd'}, {"log", required_argument, NULL, 'l'},
        {"health-file", required_argument, NULL, 'H'}, {"check", no_argument, NULL, 'C'},
        {"check-alive", no_argument, NULL, 'A'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int flag;
    while ((flag = getopt_long(argc, argv, "", flags, NULL)) != -1) {
        switch (flag) {
        case 'r':
        case 'w':
            if (rill_endpoints_set(&options.endpoints, flag == 'r' ? "run-dir" : "workers", optarg) != 0) {
                fprintf(stderr, "rill-worker: value too long: %s\n", optarg);
                return 2;
            }
            break;
        case 'c': config_path = optarg; break;
        case 'n': name = optarg; break;
        case 'k': credit = optarg; break;
        case 'K': options.kinds = optarg; break;
        case 'd': drain = optarg; break;
        case 'l': log_level = optarg; break;
        case 'H': health_file = optarg; break;
        case 'C': check = check == 0 ? 1 : check; break;
        case 'A': check = 2; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rill-worker: unexpected argument: %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (log_level != NULL && rill_log_set_level_name(log_level) != 0) {
        fprintf(stderr, "rill-worker: unknown log level \"%s\" (error, warn, info, debug)\n", log_level);
        return 2;
    }
    char error[512];
    /* Before any thread: libzmq's and curl's inherit them. A worker's
     * default is SCHED_BATCH (rill_scheduler.h); its CPUs, RILL_CPUS or
     * RILL_PLACEMENT's (rill_cpus.h). */
    if (rill_scheduler_apply_from_environment(RILL_SCHEDULER_BATCH, error, sizeof(error)) != 0 ||
        rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) != 0 ||
        rill_quiet_cpu_threshold_from_environment(&options.busy_per_s, error, sizeof(error)) != 0 ||
        rill_timer_gap_threshold_from_environment(&options.gap_busy_per_s, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-worker: %s\n", error);
        return 2;
    }
    options.config_path = config_path;
    if (config_path != NULL) {
        if (rill_config_load(config_path, &options.config, error, sizeof(error)) != 0) {
            fprintf(stderr, "rill-worker: bad configuration: %s\n", error);
            return 2;
        }
    } else {
        rill_config_defaults(&options.config);
    }
    options.credit = 256;
    options.drain_ms = 10000;
    if (credit != NULL && parse_number(credit, 1, 1000000, &options.credit) != 0) {
        fprintf(stderr, "rill-worker: --credit must be a number from 1 to 1000000\n");
        return 2;
    }
    if (drain != NULL && parse_number(drain, 0, 3600000, &options.drain_ms) != 0) {
        fprintf(stderr, "rill-worker: --drain-ms must be a number from 0 to 3600000\n");
        return 2;
    }
    if (check != 0 && name == NULL && health_file == NULL) {
        fprintf(stderr, "rill-worker: --check needs the worker's --name or --health-file "
                        "(RILL_WORKER_NAME, RILL_WORKER_HEALTH_FILE)\n");
        return 2;
    }
    if (name != NULL) {
        snprintf(options.name, sizeof(options.name), "%s", name);
    } else {
        char host[64] = "worker";
        if (gethostname(host, sizeof(host) - 1) != 0)
            snprintf(host, sizeof(host), "worker");
        host[sizeof(host) - 1] = '\0';
        snprintf(options.name, sizeof(options.name), "%s-%d", host, (int)getpid());
    }
    if (rill_endpoints_finish(&options.endpoints, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-worker: %s\n", error);
        return 2;
    }
    char health_path[RILL_ENDPOINT_MAX + 256];
    int too_long;
    if (health_file != NULL)
        too_long = snprintf(health_path, sizeof(health_path), "%s", health_file) >= (int)sizeof(health_path);
    else
        too_long = rill_worker_health_default_path(options.endpoints.run_dir, options.name, health_path,
                                                   sizeof(health_path)) != 0;
    if (too_long) {
        fprintf(stderr, "rill-worker: health file path too long\n");
        return 2;
    }
    if (check != 0)
        return rill_worker_health_check(health_path, check == 1, stdout, stderr);
    prepare_tail_root(&options);
    /* Without its health file a worker still works: --check then says so. */
    (void)rill_worker_health_open(health_path, options.name);
    int status = rill_worker_run(&options);
    rill_worker_health_close();
    return status;
}
