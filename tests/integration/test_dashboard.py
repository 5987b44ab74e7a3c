"""test_dashboard.py - the dashboard at GET / (docs/API.md "GET / (the dashboard)"): its headers, and the
page itself in a real headless Chromium (tests/integration/browser.py).

The browser tests need the Debian package `chromium` (./rill test installs
it). Without it they FAIL; RILL_NO_BROWSER=1 turns them into a loud SKIPPED.
RILL_DASHBOARD_SCREENSHOT=FILE.png saves what the browser rendered.
"""
import base64
import hashlib
import html.parser
import json
import os
import re

from harness import TestFailure, check

TOKEN = "dashboard-token-0123456789"


def inline_hash(page, tag):
    body = page.split("<%s>" % tag, 1)[1].split("</%s>" % tag, 1)[0]
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def test_dashboard_page_and_headers(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    status, headers, body = system.request("GET", "/")
    check(status == 200, "GET / answered %s" % status)
    check(headers.get("content-type") == "text/html; charset=utf-8", headers)
    check(headers.get("cache-control") == "no-cache", headers)
    check(int(headers.get("content-length", -1)) == len(body), headers)
    page = body.decode("utf-8")
    csp = headers.get("content-security-policy", "")
    check("default-src 'none'" in csp and "connect-src 'self'" in csp, csp)
    check("unsafe" not in csp, csp)
    # The hashes are those of the page's one inline script and style.
    check("script-src %s" % inline_hash(page, "script") in csp, csp)
    check("style-src %s" % inline_hash(page, "style") in csp, csp)
    check(page.count("<script") == 1 and page.count("<style") == 1, "one inline script and style")
    check(not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page loads nothing from elsewhere")
    meta = re.search(r'<meta name="rill-config" content="([^"]*)">', page)
    check(meta is not None, "no rill-config meta")
    config = json.loads(html.unescape(meta.group(1)))
    check(config == {"kinds": ["demo", "tail", "http", "exec", "subscribe"], "auth": False, "max_jobs": 1000}, config)

    status, headers, body = system.request("HEAD", "/")
    check(status == 200 and body == b"" and headers.get("content-type", "").startswith("text/html"),
          "HEAD / answered %s %r" % (status, headers))
    for method in ("POST", "DELETE", "PUT"):
        status, headers, body = system.request(method, "/", body="{}")
        check(status == 405, "%s / answered %s" % (method, status))
        check(headers.get("content-type") == "application/json", headers)
        check(json.loads(body)["error"] == "method_not_allowed", body)
        check(headers.get("allow") == "GET, HEAD", headers)
    status, _, body = system.request("GET", "/index.html")
    check(status == 404 and json.loads(body)["error"] == "not_found", "%s %r" % (status, body))


def test_dashboard_tells_the_page_about_kinds_and_token(ctx):
    system = ctx.system(workers=1, config={"kinds": ["demo", "tail"], "auth_token": TOKEN})
    system.wait_healthy()
    status, _, body = system.request("GET", "/")
    page = body.decode("utf-8")
    config = json.loads(html.unescape(re.search(r'<meta name="rill-config" content="([^"]*)">', page).group(1)))
    check(config["kinds"] == ["demo", "tail"] and config["auth"] is True, config)
    check(TOKEN not in page, "the token must never be served")


# ---- in a real browser ---------------------------------------------------------

class DomIndex(html.parser.HTMLParser):
    """Every element of a rendered DOM with its attributes, in document order."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "parents": list(self.stack), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "input", "br", "hr", "img"):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def having(self, tag, cls=None, **attrs):
        found = []
        for element in self.elements:
            classes = element["attrs"].get("class", "").split()
            if element["tag"] == tag and (cls is None or cls in classes) and \
                    all(element["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items()):
                found.append(element)
        return found


def open_browser():
    """A Browser, or None (after a loud SKIPPED) when RILL_NO_BROWSER=1."""
    if os.environ.get("RILL_NO_BROWSER") == "1":
        print("!!!!! SKIPPED: dashboard browser test (RILL_NO_BROWSER=1) !!!!!", flush=True)
        return None
    import browser
    try:
        return browser.Browser()
    except browser.BrowserMissing as error:
        raise TestFailure("the dashboard is tested in a real browser, and none could start: %s\n"
                          "(install Debian's `chromium`, or set RILL_NO_BROWSER=1 to skip loudly)" % error)


def broker_metric(system, name, kind):
    status, _, body = system.request("GET", "/metrics")
    check(status == 200, "/metrics answered %s" % status)
    for line in body.decode().splitlines():
        if line.startswith(name + "{") and 'process="broker"' in line and 'kind="%s"' % kind in line:
            return float(line.rsplit(" ", 1)[1])
    raise TestFailure("no %s for kind %s in /metrics" % (name, kind))


DEMO_PARTS = [4, 6, 12]  # the page's three demo jobs (frontend/dashboard.html)


def test_dashboard_streams_its_jobs_in_a_browser(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy(workers=2)
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open("http://127.0.0.1:%d/" % system.port)
        page.wait_for("document.body && ['ended', 'failed'].includes(document.body.dataset.demo)", 30,
                      "the page's demo request to end")
        page.wait_for("document.querySelectorAll('article.job[data-kind=demo]').length === 3"
                      " && document.getElementById('workers').dataset.value === '2'"
                      " && document.getElementById('rate').dataset.value !== ''", 15,
                      "kinds, workers and throughput on the page")
        dom = DomIndex()
        dom.feed(page.evaluate("document.documentElement.outerHTML"))
        problems = page.problems()
        if os.environ.get("RILL_DASHBOARD_SCREENSHOT"):
            page.screenshot(os.environ["RILL_DASHBOARD_SCREENSHOT"])
    check(problems == [], "the page reported problems (CSP, exceptions): %r" % problems)

    body = dom.having("body")[0]
    check(body["attrs"].get("data-demo") == "ended", "demo state %r" % body["attrs"])
    requests = dom.having("section", "request")
    check(len(requests) == 1, "expected the page's one request, got %d" % len(requests))
    request = requests[0]["attrs"]
    check(request["data-jobs"] == "3" and request["data-state"] == "ended", request)
    jobs = dom.having("article", "job")
    check(len(jobs) == 3, "expected 3 jobs on the page, got %d" % len(jobs))
    check(sorted(int(j["attrs"]["data-parts"]) for j in jobs) == DEMO_PARTS,
          [j["attrs"] for j in jobs])
    first_part, last_end = float("inf"), 0.0
    for job in jobs:
        attrs = job["attrs"]
        check(attrs["data-state"] == "done" and attrs["data-kind"] == "demo", attrs)
        check(re.fullmatch(r"[0-9a-f]{32}", attrs["data-job"]), attrs)
        parts = [e for e in dom.having("li", "part") if job in e["parents"]]
        seqs = [int(p["attrs"]["data-seq"]) for p in parts]
        check(seqs == list(range(1, int(attrs["data-parts"]) + 1)), "seqs of %s: %r" % (attrs["data-job"], seqs))
        times = [float(p["attrs"]["data-at"]) for p in parts]
        check(times == sorted(times), "parts of %s out of order in time: %r" % (attrs["data-job"], times))
        check("done" in job["text"], "no done shown for %s" % attrs["data-job"])
        first_part = min(first_part, float(attrs["data-first-part-at"]))
        last_end = max(last_end, float(attrs["data-end-at"]))
        # Streamed: a job's parts came spread over its run, not in one burst.
        check(times[-1] - times[0] >= 0.5 * (len(times) - 1) * 100,
              "parts of %s arrived together: %r" % (attrs["data-job"], times))
    check(last_end - first_part >= 900,
          "the first part (%.0f ms) should come well before the last done (%.0f ms)" % (first_part, last_end))
    check(float(request["data-ended-at"]) >= last_end, request)
    workers = dom.having("dd", id="workers")[0]
    check(workers["attrs"]["data-value"] == "2" and workers["text"].strip() == "2", workers)

    # All of it through ONE POST /v1/jobs: one submit seen by the frontend,
    # three jobs accepted by the broker.
    submits = [line for line in system.frontend.log_text().splitlines() if "submitted" in line]
    check(len(submits) == 1 and "3 job(s) submitted, streaming" in submits[0], submits)
    check(broker_metric(system, "rill_jobs_submitted_total", "demo") == 3, "jobs submitted != 3")


def test_dashboard_forms_follow_cancel_and_errors_in_a_browser(ctx):
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()
    auth = {"Authorization": "Bearer " + TOKEN}
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open("http://127.0.0.1:%d/" % system.port)
        # A token is needed: the page asks for it instead of submitting.
        page.wait_for("document.body.dataset.demo === 'skipped'"
                      " && !document.getElementById('token-form').hidden", 15, "the token field")
        # Without it, a submit is refused and the API's message is shown.
        page.evaluate("document.getElementById('raw').value = '{\"kind\":\"demo\"}';"
                      "document.getElementById('raw-form').requestSubmit()")
        page.wait_for("document.getElementById('errors').textContent.includes('401 unauthorized')", 10,
                      "the 401 shown")
        page.evaluate("document.getElementById('token').value = %s;"
                      "document.getElementById('run-demo').click()" % json.dumps(TOKEN))
        page.wait_for("document.body.dataset.demo === 'ended'"
                      " && document.querySelectorAll('article.job[data-state=done]').length === 3", 30,
                      "the demo with the token")
        # An unknown kind: 422 with its message.
        page.evaluate("document.getElementById('raw').value = '[{\"kind\":\"nope\"}]';"
                      "document.getElementById('raw-form').requestSubmit()")
        page.wait_for("document.getElementById('errors').textContent.includes('422 unknown_kind')", 10,
                      "the 422 shown")
        # Two jobs of the form in one request.
        page.evaluate("document.getElementById('args').value = '{\"parts\": 2, \"interval_ms\": 20}';"
                      "document.getElementById('copies').value = '2';"
                      "document.getElementById('submit-form').requestSubmit()")
        page.wait_for("[...document.querySelectorAll('section.request[data-jobs=\"2\"][data-state=ended]')]"
                      ".some(s => s.querySelectorAll('article.job[data-state=done][data-parts=\"2\"]').length === 2)",
                      15, "two form jobs done in one request")
        # Another client's job: follow it by id, then cancel it.
        status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                           {"kind": "demo", "args": {"parts": 200, "interval_ms": 50}}, auth)
        check(status == 202, "detach: %s %r" % (status, body))
        job = body["jobs"][0]
        page.evaluate("document.getElementById('follow-id').value = %s;"
                      "document.getElementById('follow-form').requestSubmit()" % json.dumps(job))
        card = "document.querySelector('article.job[data-job=\"%s\"]')" % job
        page.wait_for("%s && Number(%s.dataset.parts) >= 3" % (card, card), 15, "the followed job's parts")
        page.evaluate("document.getElementById('cancel-by-id').click()")
        page.wait_for("%s.dataset.state === 'error' && %s.textContent.includes('cancelled')" % (card, card), 15,
                      "the cancel shown on the followed job")
        # Cancelling again: 409, shown.
        page.evaluate("document.getElementById('cancel-by-id').click()")
        page.wait_for("document.getElementById('errors').textContent.includes('409 conflict')", 10,
                      "the 409 shown")
        # Following a job that does not exist: 404, shown.
        page.evaluate("document.getElementById('follow-id').value = '0123456789abcdef0123456789abcdef';"
                      "document.getElementById('follow-form').requestSubmit()")
        page.wait_for("document.getElementById('errors').textContent.includes('404 not_found')", 10,
                      "the 404 shown")
        problems = [p for p in page.problems() if "Failed to load resource" not in p]
    check(problems == [], "the page reported problems: %r" % problems)
    check(system.job_status(job)["state"] == "cancelled", "the job was not cancelled")
