"""test_submit_bodies.py - a POST /v1/jobs body of any shape reaches the
worker with the args its client meant, and a bad one is refused as it
always was (docs/API.md "Submit", "Errors").

The frontend reads the common body without loading it into a jansson tree
and passes each job's args on as compact text (frontend/submit_body.c,
common/rill_json_compact.h); bodies it cannot vouch for (escapes, reals,
a key twice, an unknown field, ...) go the full way. Both ways must give
the same jobs and the same refusals:

- exec "seq" jobs written compactly, pretty-printed, with \\u escapes in
  names and values, with "args" spelled with an escape, with a field
  given twice (jansson keeps the last), in one array: each prints the
  lines its args ask for.
- demo jobs whose args hold whitespace and newlines get their parts.
- bad bodies get the status, code and message they got before.
"""
from harness import check

import test_kinds


def lines_of(events):
    return [e["data"]["line"] for e in events if e["event"] == "part" and "line" in e["data"]]


def test_every_body_shape_runs_with_its_args(ctx):
    system = ctx.system(workers=1, config=test_kinds.kinds_config())
    system.wait_healthy()
    bodies = [
        '{"kind":"exec","args":{"name":"seq","args":["3"]}}',
        '{\n  "kind": "exec",\n  "args": {\n    "name": "seq",\n    "args": [ "3" ]\n  }\n}\n',
        '{"kind":"exec","args":{"name":"\\u0073eq","args":["\\u0033"]}}',
        '{"kind":"exec","\\u0061rgs":{"name":"seq","args":["3"]}}',
        '{"kind":"exec","args":{"name":"seq","args":["9"]},"args":{"name":"seq","args":["3"]}}',
        '{"kind":"exec","args":{"name":"seq","args":["9"],"args":["3"]}}',
        '{"kind":"exec","args":{"args":["3"],"name":"seq"},"source":"s\\/1","key":"k \\"1\\""}',
        '[{"kind":"exec","args":{"name":"seq","args":["3"]}}]',
    ]
    for body in bodies:
        events = system.stream("POST", "/v1/jobs", body).read_all()
        check(lines_of(events) == ["1", "2", "3"], "%s: events %r" % (body, events))
        check(events[-1]["event"] == "done", "%s: events %r" % (body, events))
    several = ('[{"kind":"exec","args":{"name":"seq","args":["2"]}} ,\n'
               ' {"kind": "exec", "args": {"name": "seq", "args": ["2", "4"]}}]')
    events = system.stream("POST", "/v1/jobs", several).read_all()
    check(sorted(lines_of(events)) == ["1", "2", "2", "3", "4"], "events %r" % events)
    for body in ('{"kind": "demo", "args": {\n\t"parts" : 2 ,\r\n "interval_ms": 0, "size": 1 }}',
                 '{"kind":"demo","args":{"parts":2,"interval_ms":-0}}',
                 '{"kind":"demo","args":{"parts":2,"parts":2,"interval_ms":0}}'):
        events = system.stream("POST", "/v1/jobs", body).read_all()
        check([e["event"] for e in events] == ["part", "part", "done"], "%s: events %r" % (body, events))


def test_bad_bodies_are_refused_as_before(ctx):
    system = ctx.system(workers=1, config={"max_jobs_per_request": 3, "max_request_bytes": 1000})
    system.wait_healthy()
    cases = [
        ('', 400, "bad_json", "the body must be a job object or an array of them"),
        ('{"kind":"demo",}', 400, "bad_json", None),
        ('{"kind":"demo","args":{"parts":99999999999999999999}}', 400, "bad_json", None),
        ('[]', 422, "invalid_job", "the job array is empty"),
        ('[{"kind":"demo"},{"kind":"demo"},{"kind":"demo"},{"kind":"demo"}]', 413, "too_many_jobs",
         "4 jobs in one request; at most 3"),
        ('7', 422, "invalid_job", "a job must be a JSON object"),
        ('{}', 422, "invalid_job", "\"kind\" is required and must be a string"),
        ('{"kind":7}', 422, "invalid_job", "\"kind\" is required and must be a string"),
        ('{"kind":"demo","extra":1}', 422, "invalid_job", "unknown job field \"extra\""),
        ('{"kind":"nope"}', 422, "unknown_kind", "kind \"nope\" is not declared"),
        ('{"kind":"demo","source":""}', 422, "invalid_job", "\"source\" must be a string of 1 to 256 bytes"),
        ('{"kind":"demo","key":5}', 422, "invalid_job", "\"key\" must be a string of 1 to 256 bytes"),
        ('{"kind":"demo","key":"%s"}' % ("k" * 257), 422, "invalid_job",
         "\"key\" must be a string of 1 to 256 bytes"),
        ('{"kind":"demo","args":[]}', 422, "invalid_args", "\"args\" must be a JSON object"),
        ('{"kind":"demo","args":null}', 422, "invalid_args", "\"args\" must be a JSON object"),
        ('{"kind":"demo","args":{"parts":1.5}}', 422, "invalid_args", None),
        ('{"kind":"demo","args":{"bogus":1}}', 422, "invalid_args", "demo takes no argument \"bogus\""),
        ('{"kind":"demo","args":{"parts":true}}', 422, "invalid_args", None),
        ('{"kind":"demo","args":{"parts":"3"}}', 422, "invalid_args", None),
        ('{"kind":"demo","args":{"parts":2000000}}', 422, "invalid_args", None),
        ('{"kind":"demo","args":{"parts":-1}}', 422, "invalid_args", None),
        ('[{"kind":"demo"},{"kind":"demo","key":5}]', 422, "invalid_job",
         "job 1: \"key\" must be a string of 1 to 256 bytes"),
        ('[{"kind":"demo","args":{"parts":10,"size":60}},{"kind":"demo","args":{"parts":10,"size":60}}]',
         413, "request_too_large", None),
        ('{"kind":"demo","kind":"nope"}', 422, "unknown_kind", "kind \"nope\" is not declared"),
    ]
    for body, status, code, message in cases:
        got, answer = system.json_request("POST", "/v1/jobs", body)
        check(got == status and answer["error"] == code, "%r answered %s %r" % (body, got, answer))
        check(message is None or answer["message"] == message, "%r answered %r" % (body, answer))
    # What passes the same checks runs.
    got, answer = system.json_request("POST", "/v1/jobs?detach=1",
                                      '[{"kind":"demo","args":{"parts":10,"size":60}},{"kind":"demo"}]')
    check(got == 202 and len(answer["jobs"]) == 2, "%s %r" % (got, answer))
