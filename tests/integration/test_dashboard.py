"""test_dashboard.py - the dashboard at GET / (docs/API.md "GET / (the dashboard)"): its headers, and the
page itself in a real headless Chromium (tests/integration/browser.py).

The browser tests need the Debian package `chromium` (./rill test installs
it). Without it they FAIL; RILL_NO_BROWSER=1 turns them into a loud SKIPPED.
RILL_DASHBOARD_SCREENSHOT=FILE.png saves what the browser rendered (the whole
page, after the demo); RILL_DASHBOARD_SCREENSHOTS=FOLDER saves one PNG of each
view as the tests drive it, dashboard-{workers,jobs,topics,chart,log,pipelines}.png
(README.md shows those of docs/: RILL_DASHBOARD_SCREENSHOTS=docs).
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
        parts = [e for e in dom.having("li", "part") if any(p is job for p in e["parents"])]
        seqs = [int(p["attrs"]["data-seq"]) for p in parts]
        check(seqs == list(range(1, int(attrs["data-parts"]) + 1)), "seqs of %s: %r" % (attrs["data-job"], seqs))
        times = [float(p["attrs"]["data-at"]) for p in parts]
        check(times == sorted(times), "parts of %s out of order in time: %r" % (attrs["data-job"], times))
        check("done" in job["text"], "no done shown for %s" % attrs["data-job"])
        # Every part in the job's log, not the last one only.
        lines = [e for e in dom.having("li") if e["parents"][-1]["attrs"].get("class") == "log"
                 and any(p is job for p in e["parents"])]
        logged = [int(x["attrs"]["data-seq"]) for x in lines]
        check(logged == seqs, "seqs in the log of %s: %r" % (attrs["data-job"], logged))
        for number, line in enumerate(lines, 1):
            check(line["text"].startswith('%d{"i":%d,' % (number, number)), "log line %r" % line["text"][:80])
        check(attrs["data-log-lines"] == attrs["data-parts"], attrs)
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


# ---- the operator's views: workers, jobs, topics, chart, full log -----------

SHOTS = os.environ.get("RILL_DASHBOARD_SCREENSHOTS")  # a folder: one PNG per view (docs/dashboard-*.png)


def shoot(page, selector, name):
    if SHOTS:
        page.evaluate("document.querySelector(%s).scrollIntoView()" % json.dumps(selector))
        page.screenshot_element(selector, os.path.join(SHOTS, "dashboard-%s.png" % name))


def table_rows(page, table):
    """The body rows of a table on the page: [{key, data-*, cells: [text…]}]."""
    return page.evaluate("""[...document.getElementById(%s).tBodies[0].rows].map(r => ({
        key: r.dataset.key, job: r.dataset.job || null, cls: r.className,
        cells: [...r.cells].map(c => c.dataset.text === undefined ? c.textContent : c.dataset.text)}))"""
                         % json.dumps(table))


def wait_rows(page, table, condition, timeout, what):
    """Until the rows of table make condition(rows) true (checked in Python)."""
    import time
    deadline = time.monotonic() + timeout
    rows = None
    while time.monotonic() < deadline:
        rows = table_rows(page, table)
        if condition(rows):
            return rows
        time.sleep(0.2)
    raise TestFailure("timed out after %ds waiting for %s; rows: %r" % (timeout, what, rows))


def test_dashboard_operator_views_in_a_browser(ctx):
    import time
    # The broker keeps all 1,205 parts (retain_parts): the page's own cap is what is tested.
    system = ctx.system(workers=2, config={"retain_parts": 5000})
    system.wait_healthy(workers=2)
    root = os.path.join(system.run_dir, "tail")
    os.makedirs(root, exist_ok=True)
    log_path = os.path.join(root, "app.log")
    with open(log_path, "w") as f:
        f.write("".join("line %d of the log\n" % i for i in range(1, 1206)))
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open(system.url("/"))
        page.wait_for("document.body && document.body.dataset.demo === 'ended'", 30, "the demo request to end")

        # ---- Workers: both, as the API lists them; a third joins live.
        # The page refreshes on its own: a credit given back just after the
        # demo ended may reach the API before the page; the two must agree
        # once both have it.
        def workers_agree(rows):
            status, api = system.json_request("GET", "/v1/workers")
            check(status == 200, api)
            by_name = {r["key"]: r["cells"] for r in rows}
            return len(rows) == 2 and all(
                by_name.get(w["name"]) is not None and
                by_name[w["name"]][4] == "%d / %d" % (w["credit"], w["capacity"]) and
                by_name[w["name"]][5] == str(w["held"]) for w in api["workers"])
        rows = wait_rows(page, "workers-table", workers_agree, 10, "two workers, as the API lists them")
        status, api = system.json_request("GET", "/v1/workers")
        by_name = {r["key"]: r["cells"] for r in rows}
        for worker in api["workers"]:
            cells = by_name.get(worker["name"])
            check(cells is not None, "worker %s not on the page: %r" % (worker["name"], rows))
            check(cells[1] == worker["host"] and cells[2] == str(worker["pid"]), cells)
            check(cells[3] == ", ".join(worker["kinds"]), cells)
            check(cells[4] == "%d / %d" % (worker["credit"], worker["capacity"]), (cells, worker))
            check(cells[5] == str(worker["held"]) and cells[6].endswith(" ago"), cells)
        check(sorted(int(c[2]) for c in by_name.values()) == sorted(w.popen.pid for w in system.workers),
              "pids on the page %r" % rows)
        system.start_worker()
        rows = wait_rows(page, "workers-table", lambda r: len(r) == 3, 10, "the third worker, live")
        check(rows[0]["key"] == "worker3", "newest first: %r" % rows)

        # ---- Jobs: the demo's three done, a detached tail job newest, filters.
        status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                           {"kind": "tail", "args": {"path": "app.log", "from": "start"}})
        check(status == 202, body)
        tail = body["jobs"][0]
        rows = wait_rows(page, "jobs-table", lambda r: len(r) == 4 and r[0]["job"] == tail
                         and r[0]["cells"][1] == "running", 10, "the tail job first, running")
        check(rows[0]["cells"][2] == "tail" and rows[0]["cells"][3].startswith("worker"), rows[0])
        check(all(r["cells"][1] == "done" and r["cells"][2] == "demo" and r["cells"][6] in ("4", "6", "12")
                  for r in rows[1:]), rows)
        check(rows[0]["cells"][0].startswith(tail[:12]), rows[0])
        page.evaluate("document.getElementById('jobs-state').value = 'running';"
                      "document.getElementById('jobs-state').dispatchEvent(new Event('change'))")
        wait_rows(page, "jobs-table", lambda r: [x["job"] for x in r] == [tail], 10, "only the running job")
        page.evaluate("document.getElementById('jobs-state').value = '';"
                      "document.getElementById('jobs-kind').value = 'demo';"
                      "document.getElementById('jobs-kind').dispatchEvent(new Event('change'))")
        rows = wait_rows(page, "jobs-table", lambda r: len(r) == 3, 10, "only the demo jobs")
        check(all(r["cells"][2] == "demo" for r in rows), rows)
        page.evaluate("document.getElementById('jobs-kind').value = '';"
                      "document.getElementById('jobs-kind').dispatchEvent(new Event('change'))")
        wait_rows(page, "jobs-table", lambda r: len(r) == 4, 10, "every job again")

        # ---- Click the tail job's row: followed, its WHOLE output as a log (capped).
        page.evaluate("document.querySelector('#jobs-table tr[data-job=\"%s\"] td').click()" % tail)
        card = "document.querySelector('article.job[data-job=\"%s\"]')" % tail
        page.wait_for("%s && %s.dataset.logTotal === '1205'" % (card, card), 20, "1,205 lines of the tail job")
        log = page.evaluate("""(() => { const c = %s; const items = [...c.querySelectorAll('ol.log li')];
            return {n: items.length, first: items[0].textContent, last: items[items.length - 1].textContent,
                    seqs: items.map(i => Number(i.dataset.seq)), note: c.querySelector('.log-note').textContent,
                    lines: c.dataset.logLines}; })()""" % card)
        check(log["n"] == 1000 and log["lines"] == "1000", log["n"])
        check(log["seqs"] == list(range(206, 1206)), "seqs kept: %r…" % log["seqs"][:5])
        check(log["first"] == "206line 206 of the log" and log["last"] == "1205line 1205 of the log", log)
        check("last 1,000 of 1,205 lines" in log["note"], log["note"])
        with open(log_path, "a") as f:
            f.write("one more line\nand the last one\n")
        page.wait_for("%s.dataset.logTotal === '1207' && %s.querySelector('ol.log').lastElementChild.textContent"
                      " === '1207and the last one'" % (card, card), 10, "live lines appended to the log")
        page.wait_for("document.querySelector('#jobs-table tr[data-job=\"%s\"]').classList.contains('following')"
                      " && document.querySelector('#jobs-table tr[data-job=\"%s\"] button').textContent === 'Following'"
                      % (tail, tail), 5, "the followed row marked, in words too")
        # The log stays scrolled to its newest line.
        page.wait_for("(() => { const l = %s.querySelector('ol.log');"
                      " return l.scrollHeight > l.clientHeight && l.scrollTop + l.clientHeight >= l.scrollHeight - 8; })()"
                      % card, 5, "the log scrolled to its end")
        shoot(page, 'article.job[data-job="%s"]' % tail, "log")

        # ---- Topics: listed with subscribers and last seq; subscribe; publish; a bad body.
        status, body = system.json_request("POST", "/v1/topics/news", {"headline": "first"})
        check(status == 202, body)
        wait_rows(page, "topics-table", lambda r: [x["cells"][:3] for x in r] == [["news", "0", "1"]], 10,
                  "the topic news, no subscriber, seq 1")
        page.evaluate("document.querySelector('#topics-table button[aria-label=\"Subscribe to topic news\"]').click()")
        topic = "document.querySelector('article.topic[data-topic=\"news\"]')"
        page.wait_for("document.querySelector('section.request[data-state=streaming] .what')"
                      ".textContent === 'topic news'", 10, "the topic stream open")
        wait_rows(page, "topics-table", lambda r: r[0]["cells"][1] == "1", 10, "one subscriber counted")
        page.evaluate("document.getElementById('topic-name').value = 'news';"
                      "document.getElementById('topic-body').value = '{\"headline\": \"from the page\"}';"
                      "document.getElementById('publish').click()")
        page.wait_for("document.getElementById('publish-result').textContent === 'Published to news as seq 2.'",
                      10, "the publish answered")
        page.wait_for("%s && %s.querySelector('ol.log li[data-seq=\"2\"]').textContent"
                      " === '2{\"headline\":\"from the page\"}'" % (topic, topic), 10, "the message on the stream")
        wait_rows(page, "topics-table", lambda r: r[0]["cells"][2] == "2", 10, "last seq 2")
        page.evaluate("document.getElementById('topic-body').value = '{bad';"
                      "document.getElementById('publish').click()")
        page.wait_for("document.getElementById('errors').textContent.includes('400 bad_json: malformed JSON')"
                      " && document.getElementById('publish-result').textContent.startsWith('Not published: 400')",
                      10, "the API's message for a bad body")
        status, info = system.json_request("GET", "/v1/topics/news?info")
        check(info["last_seq"] == 2, "the bad body was published: %r" % info)
        shoot(page, "#topics-view", "topics")
        shoot(page, "#jobs-view", "jobs")
        shoot(page, "#workers-view", "workers")

        # ---- The chart: samples of /metrics deltas, the 1,207 parts as a peak.
        page.wait_for("Number(document.getElementById('chart').dataset.samples) >= 4", 15, "4 chart samples")
        chart = page.evaluate("""(() => { const c = document.getElementById('chart');
            // The right half of the top band, below its label: the samples only.
            const d = c.getContext('2d').getImageData(c.width / 2, c.height * 0.12, c.width / 2, c.height * 0.33).data;
            let inked = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
            return {peak: Number(c.dataset.peakRate), streams: Number(c.dataset.peakStreams), inked,
                    summary: document.getElementById('chart-summary').textContent}; })()""")
        check(chart["peak"] >= 100, "the burst of tail lines is no peak on the chart: %r" % chart)
        check(chart["streams"] >= 1, "no open stream on the chart: %r" % chart)
        check(chart["inked"] > 300, "the rate is not drawn on the canvas: %r" % chart)
        check(chart["summary"].startswith("Now ") and "peak was" in chart["summary"], chart)
        shoot(page, "#throughput-view", "chart")

        # ---- One request per list per period; none while the tab is hidden.
        page.evaluate("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()")
        time.sleep(6.2)
        counts = page.evaluate("""(() => { const n = {}; for (const e of performance.getEntriesByType('resource')) {
            const p = new URL(e.name).pathname; n[p] = (n[p] || 0) + 1; } return n; })()""")
        for path in ("/v1/workers", "/v1/jobs", "/v1/topics", "/metrics", "/healthz"):
            check(2 <= counts.get(path, 0) <= 4, "%s asked %s times in 6 s: %r" % (path, counts.get(path), counts))
        page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
                      "document.dispatchEvent(new Event('visibilitychange'))")
        time.sleep(2.5)  # a poll in flight may end
        before = page.evaluate("performance.clearResourceTimings(); Number(document.body.dataset.polls)")
        time.sleep(5)
        hidden = page.evaluate("[Number(document.body.dataset.polls),"
                               " performance.getEntriesByType('resource').map(e => e.name)]")
        check(hidden[0] == before and hidden[1] == [], "a hidden tab still polls: %r" % hidden)
        page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
                      "document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for("Number(document.body.dataset.polls) > %d" % before, 2, "polling again once visible")

        # ---- Stop the topic stream from the page.
        page.evaluate("document.querySelector('section.request[data-state=streaming] .what').parentNode"
                      ".querySelector('button').click()")
        page.wait_for("document.getElementById('stream-status').textContent.endsWith(': stopped')", 5,
                      "the stopped stream announced")
        problems = [p for p in page.problems() if "400 (Bad Request)" not in p]
    check(problems == [], "the page reported problems: %r" % problems)
    status, _, _ = system.request("DELETE", "/v1/jobs/" + tail)
    check(status == 200, "cancel the tail job: %s" % status)


def test_dashboard_keyboard_and_screen_reader_basics(ctx):
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open(system.url("/"))
        page.wait_for("document.body.dataset.demo === 'skipped'", 15, "the page asking for the token")
        # The lists need the token too: the views say so instead of asking.
        page.wait_for("['workers', 'jobs', 'topics'].every(v => document.getElementById(v + '-status')"
                      ".textContent.startsWith('needs the bearer token'))", 10, "the views asking for the token")
        page.evaluate("document.getElementById('token').value = %s;"
                      "document.getElementById('run-demo').click()" % json.dumps(TOKEN))
        page.wait_for("document.body.dataset.demo === 'ended'"
                      " && document.querySelectorAll('#jobs-table tbody tr').length === 3"
                      " && document.querySelectorAll('#workers-table tbody tr').length === 1", 30,
                      "the demo and the lists with the token")
        page.wait_for("document.getElementById('stream-status').textContent === 'Request #1: ended'", 5,
                      "the stream's end announced")
        # Every control labelled.
        unlabelled = page.evaluate("""[...document.querySelectorAll('input, select, textarea, button, canvas')]
            .filter(e => !(e.getAttribute('aria-label') || (e.id && document.querySelector('label[for="' + e.id + '"]'))
                           || (e.tagName === 'BUTTON' && e.textContent.trim())))
            .map(e => e.outerHTML.slice(0, 120))""")
        check(unlabelled == [], "controls without a label: %r" % unlabelled)
        # Tables: header cells with a scope, a caption or label; live regions.
        tables = page.evaluate("""[...document.querySelectorAll('table')].map(t => ({id: t.id,
            labelled: !!t.getAttribute('aria-labelledby'),
            bad: [...t.querySelectorAll('th')].filter(h => !['col', 'row'].includes(h.getAttribute('scope'))).length,
            rowheads: [...t.tBodies[0].rows].every(r => r.cells[0].tagName === 'TH' && r.cells[0].scope === 'row')}))""")
        check(len(tables) == 5 and all(t["labelled"] and t["bad"] == 0 and t["rowheads"] for t in tables), tables)
        live = page.evaluate("[...document.querySelectorAll('[aria-live=polite]')].map(e => e.id)")
        check({"stream-status", "announce", "publish-result"} <= set(live), live)
        check(page.evaluate("document.querySelectorAll('[tabindex]:not([tabindex=\"0\"]):not([tabindex=\"-1\"])').length") == 0,
              "a positive tabindex breaks the focus order")
        # The keyboard: Tab goes through the page in reading order, each stop visibly outlined.
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        stops = []
        for _ in range(60):
            page.press("Tab", key_code=9)
            stops.append(page.evaluate("""(() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {id: e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30), tag: e.tagName,
                        outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; })()"""))
        stops = [s for s in stops if s["tag"] != "BODY"]  # past the last control, the page itself
        names = [s["id"] for s in stops]
        check("System" in names, "Tab never reaches the first link: %r" % names)
        stops = stops[names.index("System"):]  # from the top of the page
        names = names[names.index("System"):]
        not_outlined = [s for s in stops if not s["outline"]]
        check(not_outlined == [], "focus not visible on %r" % not_outlined)
        order = ["System", "token", "kind", "raw", "follow-id", "run-demo", "clear", "jobs-state", "jobs-kind"]
        places = []
        for name in order:
            check(name in names, "Tab never reaches %r: %r" % (name, names))
            places.append(names.index(name))
        check(places == sorted(places), "focus order %r" % names)
        check(any(n.startswith("Follow job ") for n in names[places[-1]:]), "no job row reached: %r" % names)
        topic = names.index("topic-name")
        check(topic > places[-1] and names[topic:topic + 4] == ["topic-name", "topic-body", "publish", "subscribe"],
              "the topic form after the jobs: %r" % names)
        problems = [p for p in page.problems() if "Failed to load resource" not in p]
    check(problems == [], "the page reported problems: %r" % problems)


PIPELINES = [
    # Jobs of source "held" wait in their group's buffer (10 min, or 100 jobs): queued.
    {"name": "held", "match": {"kind": "demo", "source": "held"}, "group_by": "source",
     "buffer_ms": 600000, "buffer_max": 100, "mode": "parallel", "concurrency": 4},
    # One batch of a group at a time: one in flight, the others queued behind it.
    {"name": "in-order", "match": {"kind": "demo"}, "group_by": "source", "mode": "ordered"},
]


def test_dashboard_pipelines_view_in_a_browser(ctx):
    system = ctx.system(workers=1, config={"pipelines": PIPELINES})
    system.wait_healthy()
    jobs = []
    for source, count in (("held", 3), ("slow", 3)):
        status, body = system.json_request("POST", "/v1/jobs?detach=1", [
            {"kind": "demo", "source": source, "args": {"parts": 200, "interval_ms": 100}}] * count)
        check(status == 202, body)
        jobs += body["jobs"]
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open(system.url("/"))
        page.wait_for("document.body.dataset.demo === 'ended'", 30, "the demo")
        # The demo's jobs (sources demo-*) went through in-order too: 3 slow + 3 demo jobs, 3 + 1 batches.
        rows = wait_rows(page, "pipelines-table", lambda r: len(r) == 2 and r[1]["cells"][5:7] == ["6", "4"], 10,
                         "both pipelines, 6 jobs and 4 batches in in-order")
        status, api = system.json_request("GET", "/v1/pipelines")
        check(status == 200, api)
        held, ordered = rows[0]["cells"], rows[1]["cells"]
        check(held[0] == "held" and held[1] == "demo / source held" and held[2] == "source", held)
        check(held[3] == "600000 ms, max 100" and held[4] == "parallel, concurrency 4", held)
        check(held[5] == "3" and held[6] == "0", "3 jobs, no batch yet: %r" % held)
        check(ordered[0] == "in-order" and ordered[1] == "demo" and ordered[4] == "ordered, concurrency 1", ordered)
        check([p["name"] for p in api["pipelines"]] == ["held", "in-order"], api)
        check(held[5] == str(api["pipelines"][0]["jobs_total"]), (held, api))
        groups = wait_rows(page, "groups-table", lambda r: [x["cells"][:2] for x in r] ==
                           [["held", "held"], ["in-order", "slow"]], 10, "the groups with work")
        check(groups[0]["cells"][2:] == ["3", "0", "0"], "held: 3 queued, none in flight: %r" % groups[0])
        check(groups[1]["cells"][2:] == ["2", "1", "0"], "slow: 2 queued behind 1 in flight: %r" % groups[1])
        api_groups = {(p["name"], g["group"]): g for p in api["pipelines"] for g in p["groups"]}
        check(api_groups[("held", "held")]["queued"] == 3 and api_groups[("in-order", "slow")]["in_flight"] == 1,
              api_groups)
        page.wait_for("document.getElementById('pipelines-status').textContent === '2 pipelines, 2 groups'", 5,
                      "the pipelines' summary")
        shoot(page, "#pipelines-view", "pipelines")
        problems = page.problems()
    check(problems == [], "the page reported problems: %r" % problems)
    for job in jobs:
        system.request("DELETE", "/v1/jobs/" + job)
