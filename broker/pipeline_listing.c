/*
 * pipeline_listing.c - see pipeline_listing.h. At most 32 pipelines
 * (docs/CONFIG.md); their groups are as many as there are sources with jobs
 * queued or in flight, so the answer is cut, with "groups_left_out", where
 * it would not fit a message.
 */
#include "pipeline_listing.h"

#include "counters.h"
#include "pipeline.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX 1000 /* per pipeline, in one answer */

typedef struct {
    json_t *groups;   /* array: one per pipeline, in config order */
    json_t *left_out; /* array of integers, alike */
    const rill_config_t *config;
} pass_t;

static void visit_group(void *argument, const rill_pipeline_group_view_t *view)
{
    pass_t *pass = argument;
    for (size_t i = 0; i < pass->config->pipeline_count; i++) {
        if (strcmp(pass->config->pipelines[i].name, view->pipeline) != 0)
            continue;
        json_t *groups = json_array_get(pass->groups, i);
        if (json_array_size(groups) >= GROUPS_MAX) {
            json_t *count = json_array_get(pass->left_out, i);
            json_integer_set(count, json_integer_value(count) + 1);
            return;
        }
        json_t *group = json_pack("{s:s, s:I, s:I, s:I}", "group", view->group, "queued", (json_int_t)view->queued,
                                  "in_flight", (json_int_t)view->in_flight, "debouncing",
                                  (json_int_t)view->debouncing);
        if (group != NULL)
            json_array_append_new(groups, group);
        return;
    }
}

static const char *group_by_name(rill_group_by_t group_by)
{
    return group_by == RILL_GROUP_BY_KIND ? "kind" : group_by == RILL_GROUP_BY_NONE ? "none" : "source";
}

char *rill_pipeline_listing_answer(rill_broker_t *broker, rill_broker_error_t *error)
{
    const rill_config_t *config = &broker->config;
    pass_t pass = {json_array(), json_array(), config};
    for (size_t i = 0; i < config->pipeline_count; i++) {
        json_array_append_new(pass.groups, json_array());
        json_array_append_new(pass.left_out, json_integer(0));
    }
    rill_pipelines_foreach_group(broker->pipelines, visit_group, &pass);
    json_t *list = json_array();
    for (size_t i = 0; i < config->pipeline_count; i++) {
        const rill_pipeline_config_t *pipeline = &config->pipelines[i];
        const rill_pipeline_counters_t *counted = zhashx_lookup(broker->counters->pipelines, pipeline->name);
        json_t *groups = json_array_get(pass.groups, i);
        size_t debouncing = 0;
        size_t index;
        json_t *group;
        json_array_foreach(groups, index, group)
            debouncing += (size_t)json_integer_value(json_object_get(group, "debouncing"));
        json_t *entry = json_pack(
            "{s:s, s:{s:s, s:s?}, s:s, s:I, s:I, s:I, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O}",
            "name", pipeline->name, "match", "kind", pipeline->kind, "source",
            pipeline->source[0] != '\0' ? pipeline->source : NULL, "group_by", group_by_name(pipeline->group_by),
            "buffer_ms", (json_int_t)pipeline->buffer_ms, "buffer_max", (json_int_t)pipeline->buffer_max,
            "debounce_ms", (json_int_t)pipeline->debounce_ms, "mode",
            pipeline->mode == RILL_PIPELINE_ORDERED ? "ordered" : "parallel", "concurrency",
            (json_int_t)pipeline->concurrency, "dedup", pipeline->dedup, "timeout_ms",
            (json_int_t)pipeline->timeout_ms, "retries", (json_int_t)pipeline->retries, "flush_ms",
            (json_int_t)pipeline->flush_ms, "jobs_total", (json_int_t)(counted != NULL ? counted->jobs : 0),
            "batches_total", (json_int_t)(counted != NULL ? counted->batches : 0), "debouncing",
            (json_int_t)debouncing, "groups_left_out", json_integer_value(json_array_get(pass.left_out, i)),
            "groups", groups);
        if (entry != NULL)
            json_array_append_new(list, entry);
    }
    json_decref(pass.groups);
    json_decref(pass.left_out);
    json_t *root = json_pack("{s:o}", "pipelines", list);
    char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (text != NULL && strlen(text) + 4096 > broker->config.max_message_bytes) {
        free(text);
        (void)rill_broker_refuse(error, "too_large", "the pipelines do not fit in max_message_bytes");
        return NULL;
    }
    if (text == NULL)
        (void)rill_broker_refuse(error, "internal", "out of memory");
    return text;
}
