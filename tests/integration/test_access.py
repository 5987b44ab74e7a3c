"""test_access.py - CORS for browsers on other origins, and the optional
bearer token that guards submit, publish and cancel (docs/API.md, docs/DESIGN.md "Promises")."""
import json

from harness import check

TOKEN = "s3cret-token-0123456789"
APP = "https://app.example"


def test_cors_preflight_and_cross_origin_streams(ctx):
    system = ctx.system(workers=1, config={"cors_origins": [APP]})
    system.wait_healthy()
    preflight = {"Origin": APP, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type, authorization"}
    status, headers, _ = system.request("OPTIONS", "/v1/jobs", headers=preflight)
    check(status == 204, "preflight answered %s" % status)
    check(headers.get("access-control-allow-origin") == APP, headers)
    check("POST" in headers.get("access-control-allow-methods", ""), headers)
    check("authorization" in headers.get("access-control-allow-headers", "").lower(), headers)

    status, headers, body = system.request("OPTIONS", "/v1/jobs", headers=dict(preflight, Origin="https://evil.example"))
    check(status == 403 and json.loads(body)["error"] == "cors_forbidden", "%s %r" % (status, body))
    check("access-control-allow-origin" not in headers, headers)

    # An EventSource from the allowed origin: the stream itself carries the header.
    status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "demo", "args": {"parts": 2, "interval_ms": 1}})
    job = body["jobs"][0]
    stream = system.stream("GET", "/v1/stream?job=%s&format=sse" % job, headers={"Origin": APP})
    check(stream.status == 200 and stream.headers.get("access-control-allow-origin") == APP, stream.headers)
    stream.close()
    # Other origins get no CORS header (the browser then refuses the answer).
    status, headers, _ = system.request("GET", "/healthz", headers={"Origin": "https://evil.example"})
    check(status == 200 and "access-control-allow-origin" not in headers, headers)


def test_no_origin_is_allowed_by_default(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    status, headers, _ = system.request("GET", "/healthz", headers={"Origin": APP})
    check("access-control-allow-origin" not in headers, headers)
    status, _, _ = system.request("OPTIONS", "/v1/jobs", headers={"Origin": APP, "Access-Control-Request-Method": "POST"})
    check(status == 403, "preflight from an unlisted origin answered %s" % status)


def test_bearer_token_guards_submit_publish_and_cancel(ctx):
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()
    job = {"kind": "demo", "args": {"parts": 100, "interval_ms": 50}}
    for method, path, body in (("POST", "/v1/jobs?detach=1", job), ("POST", "/v1/jobs", job),
                               ("POST", "/v1/topics/news", {"a": 1})):
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Basic " + TOKEN}):
            status, answer_headers, data = system.request(method, path, body, headers)
            check(status == 401, "%s %s with %r answered %s" % (method, path, headers, status))
            check(json.loads(data)["error"] == "unauthorized", data)
            check(answer_headers.get("www-authenticate", "").startswith("Bearer"), answer_headers)
    good = {"Authorization": "Bearer " + TOKEN}
    status, body = system.json_request("POST", "/v1/jobs?detach=1", job, good)
    check(status == 202, "with the token: %s %r" % (status, body))
    job_id = body["jobs"][0]
    check(system.json_request("POST", "/v1/topics/news", {"a": 1}, good)[0] == 202)
    # Reading needs no token: status, streams.
    check(system.job_status(job_id)["kind"] == "demo")
    status, _ = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 401, "cancel without the token answered %s" % status)
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id, headers=good)
    check(status == 200 and body["state"] == "cancelled", "%s %r" % (status, body))
