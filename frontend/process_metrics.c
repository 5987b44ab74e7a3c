/*
 * process_metrics.c - see process_metrics.h.
 */
#include "process_metrics.h"

#include "rill_metrics.h"
#include "rill_process_stats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The same cap as the broker's (broker/worker_metrics.h): a reply from a
 * broker of another build cannot make the label set grow without bound. */
#define PROCESS_METRICS_WORKERS_MAX 256

void rill_process_metrics_render(rill_buffer_t *out, long pid, const char *processes, size_t processes_length)
{
    rill_process_stats_t stats[2 + PROCESS_METRICS_WORKERS_MAX];
    rill_process_sample_t samples[2 + PROCESS_METRICS_WORKERS_MAX];
    rill_buffer_t labels[2 + PROCESS_METRICS_WORKERS_MAX];
    size_t count = 0;
    (void)rill_process_stats_read(&stats[0]);
    rill_buffer_init(&labels[0]);
    rill_buffer_printf(&labels[0], "process=\"frontend\",pid=\"%ld\"", pid);
    rill_buffer_append(&labels[0], "", 1); /* each label list ends with its NUL: a string */
    count = 1;
    json_t *root = processes != NULL ? json_loadb(processes, processes_length, 0, NULL) : NULL;
    json_t *broker = json_object_get(root, "broker");
    if (json_is_object(broker)) {
        char *text = json_dumps(broker, JSON_COMPACT);
        if (text != NULL && rill_process_stats_from_json(text, strlen(text), &stats[count]) == 0) {
            rill_buffer_init(&labels[count]);
            rill_buffer_append(&labels[count], "process=\"broker\"", sizeof("process=\"broker\""));
            count++;
        }
        free(text);
    }
    json_t *workers = json_object_get(root, "workers");
    size_t index;
    json_t *worker;
    json_array_foreach(workers, index, worker) {
        if (count >= sizeof(stats) / sizeof(stats[0]))
            break;
        const char *name = json_string_value(json_object_get(worker, "name"));
        json_t *object = json_object_get(worker, "stats");
        if (name == NULL || !json_is_object(object))
            continue;
        char *text = json_dumps(object, JSON_COMPACT);
        if (text != NULL && rill_process_stats_from_json(text, strlen(text), &stats[count]) == 0) {
            rill_buffer_init(&labels[count]);
            rill_buffer_printf(&labels[count], "process=\"worker\",worker=\"");
            rill_metrics_label_value(&labels[count], name);
            rill_buffer_append(&labels[count], "\"", 2); /* with its NUL */
            count++;
        }
        free(text);
    }
    json_decref(root);
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        failed |= labels[i].failed;
        samples[i] = (rill_process_sample_t){.labels = labels[i].data, .stats = &stats[i]};
    }
    if (!failed)
        rill_process_stats_render(out, samples, count);
    else
        out->failed = 1;
    for (size_t i = 0; i < count; i++)
        rill_buffer_release(&labels[i]);
}
