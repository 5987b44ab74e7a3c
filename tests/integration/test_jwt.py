"""test_jwt.py - JWT access per topic and per job (docs/API.md "Access",
docs/CONFIG.md "JWT"), with the real broker, frontend and a worker.

HS256 tokens are made here with the standard library (hmac); RS256 and
ES256 keys with the `openssl` command, their tokens signed with Debian's
python3-jwt (PyJWT, on python3-cryptography: ./rill's TEST_PACKAGES). The
cookie path is also driven from a real EventSource in headless Chromium.
"""
import asyncio
import atexit
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import TestFailure, check

SECRET = "jwt-test-secret-0123456789abcdef-0123456789"
ADMIN_TOKEN = "operator-token-0123456789"
JOB = {"kind": "demo", "args": {"parts": 200, "interval_ms": 50}}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims, secret=SECRET, header=None):
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signing = ("%s.%s" % (head, body)).encode()
    return "%s.%s.%s" % (head, body, b64url(hmac.new(secret.encode(), signing, hashlib.sha256).digest()))


def unsigned(claims):
    """alg:none, no signature (RFC 7519 6.1)."""
    return "%s.%s." % (b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()), b64url(json.dumps(claims).encode()))


def bearer(token):
    return {"Authorization": "Bearer " + token}


def hs_config(**more):
    config = {"jwt": {"keys": [{"alg": "HS256", "secret": SECRET}], "cookie": "rill_jwt", "leeway_s": 2}}
    config.update(more)
    return config


def refused(system, method, path, headers, status, why=None, body=None):
    """The request is refused with status (401 or 403), its error and reason."""
    # Read as a stream: a request wrongly allowed would be an endless stream.
    stream = system.stream(method, path, body, headers, timeout=10)
    try:
        answer_status, answer_headers = stream.status, stream.headers
        check(answer_status == status, "%s %s answered %s (not %s)" % (method, path, answer_status, status))
        answer = json.loads(stream.response.read())
    finally:
        stream.close()
    check(answer["error"] == ("unauthorized" if status == 401 else "forbidden"), answer)
    if why is not None:
        check(why in answer["message"], "%r does not say %r" % (answer, why))
    if status == 401:
        check(answer_headers.get("www-authenticate", "").startswith("Bearer"), answer_headers)
    return answer


def opens(system, path, headers):
    stream = system.stream("GET", path, headers=headers)
    status = stream.status
    stream.close()
    check(status == 200, "GET %s answered %s" % (path, status))


def test_jwt_topics_need_claims(ctx):
    system = ctx.system(workers=1, config=hs_config())
    system.wait_healthy()
    now = int(time.time())
    alice = hs256({"sub": "alice", "exp": now + 600,
                   "rill": {"subscribe": ["news", "alerts.*"], "publish": ["news"]}})

    # Allowed: a topic, a topic under a wildcard claim, the wildcard itself;
    # a message published with the token arrives on the stream.
    stream = system.stream("GET", "/v1/topics/news", headers=bearer(alice))
    check(stream.status == 200, "the allowed topic answered %s" % stream.status)
    status, body = system.json_request("POST", "/v1/topics/news", {"n": 1}, bearer(alice))
    check(status == 202, "publish %s %r" % (status, body))
    event = stream.next_event()
    while event is not None and event.get("topic") != "news":
        event = stream.next_event()
    check(event is not None and event["data"] == {"n": 1}, "the stream got %r" % stream.events)
    stream.close()
    opens(system, "/v1/stream?topic=alerts.cpu", bearer(alice))
    opens(system, "/v1/topics/alerts.*", bearer(alice))
    opens(system, "/v1/stream?topic=alerts.cpu.*&topic=news", bearer(alice))

    # Denied: topics the claims do not name, and publishing where only subscribing is allowed.
    refused(system, "GET", "/v1/topics/secret", bearer(alice), 403, "subscribe")
    refused(system, "GET", "/v1/stream?topic=news&topic=secret", bearer(alice), 403, "subscribe")
    refused(system, "GET", "/v1/topics/a.*", bearer(alice), 403)
    refused(system, "GET", "/v1/topics/alerts", bearer(alice), 403)
    refused(system, "POST", "/v1/topics/alerts.cpu", bearer(alice), 403, "publish", {"n": 2})
    refused(system, "DELETE", "/v1/topics/news2", bearer(alice), 403, "publish")
    refused(system, "GET", "/v1/jobs", bearer(alice), 403, "admin")
    refused(system, "GET", "/v1/topics", bearer(alice), 403, "admin")

    # No token, and tokens that are not good: 401 with the reason.
    refused(system, "GET", "/v1/topics/news", {}, 401, "needs a token")
    refused(system, "POST", "/v1/topics/news", {}, 401, None, {"n": 3})
    refused(system, "GET", "/v1/topics/news", bearer(hs256({"sub": "alice", "exp": now - 60,
                                                            "rill": {"subscribe": ["*"]}})), 401, "expired")
    refused(system, "GET", "/v1/topics/news", bearer(hs256({"sub": "alice", "nbf": now + 600,
                                                            "rill": {"subscribe": ["*"]}})), 401, "not valid yet")
    forged = hs256({"sub": "alice", "rill": {"subscribe": ["*"]}}, secret="another-secret-0123456789abcdef-xyz")
    refused(system, "GET", "/v1/topics/news", bearer(forged), 401, "bad signature")
    tampered = alice.rsplit(".", 1)[0] + "." + b64url(b"\0" * 32)
    refused(system, "GET", "/v1/topics/news", bearer(tampered), 401, "bad signature")
    refused(system, "GET", "/v1/topics/news", bearer(unsigned({"sub": "alice", "rill": {"subscribe": ["*"]}})),
            401, "alg none")
    refused(system, "GET", "/v1/topics/news", bearer("not-a-jwt"), 401, "not a JWT")
    for junk in ("a.b", "e.x.y", ".x.y", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9..", "%%%.x.y",
                 b64url(b'{"alg":"HS256"}') + ".!!.!!", "x" * 9000):
        refused(system, "GET", "/v1/topics/news", bearer(junk), 401)
    refused(system, "GET", "/v1/topics/news", {"Authorization": "Basic " + alice}, 401, "Bearer")
    answer_status, headers, _ = system.request("GET", "/v1/topics/news", None, bearer(forged))
    check('error="invalid_token"' in headers.get("www-authenticate", ""), headers)
    check(headers["www-authenticate"].endswith('error_description="bad signature, or a malformed token"'), headers)
    # Leeway: expired just under a second ago is still good with leeway_s 2
    # (the frontend counts whole seconds). Read now, not from `now`, which
    # may be more than a second old by here: that token could fail.
    just_expired = time.time() - 0.99
    opens(system, "/v1/topics/news", bearer(hs256({"sub": "alice", "exp": just_expired,
                                                   "rill": {"subscribe": ["news"]}})))

    # A token verified once (the frontend remembers verified tokens) still
    # expires: exp is checked on every request.
    start = int(time.time())
    soon = hs256({"sub": "alice", "exp": start + 2, "rill": {"subscribe": ["news"]}})  # good for 3 s at least
    opens(system, "/v1/topics/news", bearer(soon))
    time.sleep(max(0.0, start + 2 + 2 + 1.2 - time.time()))  # past exp + leeway_s
    refused(system, "GET", "/v1/topics/news", bearer(soon), 401, "expired")

    # The cookie path (EventSource cannot set headers); the header wins when both are there.
    opens(system, "/v1/topics/news", {"Cookie": "theme=dark; rill_jwt=%s; other=1" % alice})
    refused(system, "GET", "/v1/topics/secret", {"Cookie": "rill_jwt=" + alice}, 403)
    refused(system, "GET", "/v1/topics/news", {"Cookie": "rill_jwt2=" + alice}, 401, "needs a token")
    refused(system, "GET", "/v1/topics/news", {"Cookie": "rill_jwt=" + forged}, 401, "bad signature")

    # Probes, /metrics and the dashboard page stay open.
    check(system.request("GET", "/healthz")[0] == 200)
    check(system.request("GET", "/metrics")[0] == 200)


def test_jwt_jobs_belong_to_their_sub(ctx):
    system = ctx.system(workers=1, config=hs_config(auth_token=ADMIN_TOKEN))
    system.wait_healthy()
    alice = hs256({"sub": "alice"})  # no rill claim: its own jobs only
    bob = hs256({"sub": "bob", "rill": {"subscribe": ["*"]}})
    status, body = system.json_request("POST", "/v1/jobs?detach=1", JOB, bearer(alice))
    check(status == 202, "alice's submit: %s %r" % (status, body))
    job = body["jobs"][0]

    status, body = system.json_request("GET", "/v1/jobs/" + job, headers=bearer(alice))
    check(status == 200 and body["id"] == job and body["who"].endswith(" sub=alice"), "%s %r" % (status, body))
    stream = system.stream("GET", "/v1/stream?job=" + job, headers=bearer(alice))
    check(stream.status == 200, "alice's stream of her job answered %s" % stream.status)
    event = stream.next_event()
    check(event is not None and event.get("job") == job, "alice's stream: %r" % stream.events)
    stream.close()

    refused(system, "GET", "/v1/jobs/" + job, bearer(bob), 403, "not the token's sub's")
    refused(system, "GET", "/v1/stream?job=" + job, bearer(bob), 403)
    refused(system, "GET", "/v1/stream?topic=news&job=" + job, bearer(bob), 403)
    refused(system, "DELETE", "/v1/jobs/" + job, bearer(bob), 403)
    refused(system, "GET", "/v1/jobs/" + job, {}, 401)
    # Alice reads no topic: a token without rill claims has none.
    refused(system, "GET", "/v1/topics/news", bearer(alice), 403)
    # A job nobody has: 404, as without JWT.
    status, _ = system.json_request("GET", "/v1/jobs/0123456789abcdef0123456789abcdef", headers=bearer(alice))
    check(status == 404, "an unknown job answered %s" % status)
    # A jobs claim naming the job lets bob read it.
    bob_reader = hs256({"sub": "bob", "rill": {"jobs": [job]}})
    status, body = system.json_request("GET", "/v1/jobs/" + job, headers=bearer(bob_reader))
    check(status == 200 and body["id"] == job, "%s %r" % (status, body))
    opens(system, "/v1/stream?job=" + job, bearer(bob_reader))
    # A token without sub cannot submit (its jobs would be no one's).
    refused(system, "POST", "/v1/jobs?detach=1", bearer(hs256({"rill": {"subscribe": ["*"]}})), 403, "sub", JOB)
    # The operator's auth_token still opens everything, the lists included.
    status, body = system.json_request("GET", "/v1/jobs", headers=bearer(ADMIN_TOKEN))
    check(status == 200 and any(j["id"] == job for j in body["jobs"]), "%s %r" % (status, body))
    admin = hs256({"sub": "ops", "rill": {"admin": True}})
    check(system.json_request("GET", "/v1/workers", headers=bearer(admin))[0] == 200)
    # Alice cancels her job.
    status, body = system.json_request("DELETE", "/v1/jobs/" + job, headers=bearer(alice))
    check(status == 200 and body["state"] == "cancelled", "%s %r" % (status, body))
    # A streamed submit is the submitter's too: its stream opens at once.
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 2, "interval_ms": 1}},
                           headers=bearer(alice))
    check(stream.status == 200, "a streamed submit answered %s" % stream.status)
    parts = [e for e in stream.read_all() if e.get("event") == "part"]
    check(len(parts) == 2, "the streamed submit got %r" % stream.events)


def keys():
    """RS256 and ES256 key pairs made by openssl, in a fresh folder."""
    folder = tempfile.mkdtemp(prefix="rill-jwt-keys-")
    atexit.register(shutil.rmtree, folder, True)
    commands = [["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rs.key"],
                ["pkey", "-in", "rs.key", "-pubout", "-out", "rs.pem"],
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "es.key"],
                ["pkey", "-in", "es.key", "-pubout", "-out", "es.pem"],
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key"]]
    for command in commands:
        subprocess.run(["openssl"] + command, cwd=folder, check=True, capture_output=True, timeout=60)
    return folder


def test_jwt_rs256_and_es256_keys(ctx):
    try:
        import jwt as pyjwt
    except ImportError as error:
        raise TestFailure("python3-jwt is needed (./rill's TEST_PACKAGES): %s" % error)
    folder = keys()
    read = lambda name: open(os.path.join(folder, name)).read()
    system = ctx.system(workers=1, config={"jwt": {"keys": [
        {"alg": "RS256", "public_key_file": os.path.join(folder, "rs.pem")},
        {"alg": "ES256", "public_key_file": os.path.join(folder, "es.pem")}]}})
    system.wait_healthy()
    claims = {"sub": "carol", "exp": int(time.time()) + 600, "rill": {"subscribe": ["news"]}}
    opens(system, "/v1/topics/news", bearer(pyjwt.encode(claims, read("rs.key"), algorithm="RS256")))
    opens(system, "/v1/topics/news", bearer(pyjwt.encode(claims, read("es.key"), algorithm="ES256")))
    refused(system, "GET", "/v1/topics/other", bearer(pyjwt.encode(claims, read("es.key"), algorithm="ES256")), 403)
    refused(system, "GET", "/v1/topics/news", bearer(pyjwt.encode(claims, read("other.key"), algorithm="ES256")),
            401, "bad signature")
    # An HS256 token is refused outright: no key has that alg (and the RSA
    # public key is never taken as an HMAC secret).
    confused = hs256(claims, secret=read("rs.pem"))
    refused(system, "GET", "/v1/topics/news", bearer(confused), 401, "alg is not allowed")
    refused(system, "GET", "/v1/topics/news", bearer(pyjwt.encode(claims, read("rs.key"), algorithm="RS384")),
            401, "alg is not allowed")


def test_jwt_rs256_token_against_an_hs256_key(ctx):
    try:
        import jwt as pyjwt
    except ImportError as error:
        raise TestFailure("python3-jwt is needed (./rill's TEST_PACKAGES): %s" % error)
    folder = keys()
    system = ctx.system(workers=1, config=hs_config())
    system.wait_healthy()
    token = pyjwt.encode({"sub": "dave", "rill": {"subscribe": ["*"]}},
                         open(os.path.join(folder, "rs.key")).read(), algorithm="RS256")
    refused(system, "GET", "/v1/topics/news", bearer(token), 401, "alg is not allowed")


def test_jwt_config_is_checked_and_reloaded(ctx):
    folder = keys()
    # A bad section stops the frontend at start with the reason.
    for section, reason in (({"keys": []}, "keys"),
                            ({"keys": [{"alg": "HS256", "secret": "short"}]}, "secret"),
                            ({"keys": [{"alg": "none", "secret": SECRET}]}, "alg"),
                            ({"keys": [{"alg": "RS256", "public_key_file": os.path.join(folder, "rs.key")}]},
                             "private key"),
                            ({"keys": [{"alg": "RS256", "public_key_file": "/nonexistent.pem"}]}, "cannot read"),
                            ({"keys": [{"alg": "HS256", "secret": SECRET}], "cookie": "a;b"}, "cookie"),
                            ({"keys": [{"alg": "HS256", "secret": SECRET}], "leeway": 1}, "unknown")):
        config_path = os.path.join(folder, "bad.json")
        with open(config_path, "w") as f:
            json.dump({"jwt": section}, f)
        result = subprocess.run([os.path.join(ctx.build_dir, "frontend", "rill-frontend"), "--config", config_path,
                                 "--listen", "127.0.0.1:1", "--run-dir", os.path.join(folder, "run")],
                                capture_output=True, text=True, timeout=30)
        check(result.returncode != 0 and reason in result.stderr + result.stdout,
              "%r: exit %s, %r" % (section, result.returncode, result.stderr[-400:]))

    # SIGHUP: JWT access turned on, then its key changed.
    system = ctx.system(workers=1, config={})
    system.wait_healthy()
    opens(system, "/v1/topics/news", {})
    token = hs256({"sub": "erin", "rill": {"subscribe": ["news"]}})
    with open(system.config_path, "w") as f:
        json.dump(hs_config(), f)
    system.frontend.signal(signal.SIGHUP)
    system.wait_for(lambda: system.request("GET", "/v1/topics/news")[0] == 401, 10, "JWT access after SIGHUP")
    opens(system, "/v1/topics/news", bearer(token))
    with open(system.config_path, "w") as f:
        json.dump({"jwt": {"keys": [{"alg": "HS256", "secret": SECRET + "-rotated"}]}}, f)
    system.frontend.signal(signal.SIGHUP)
    system.wait_for(lambda: system.request("GET", "/v1/topics/news", None, bearer(token))[0] == 401, 10,
                    "the old key refused after SIGHUP")


def open_browser():
    if os.environ.get("RILL_NO_BROWSER") == "1":
        print("!!!!! SKIPPED: JWT EventSource browser test (RILL_NO_BROWSER=1) !!!!!", flush=True)
        return None
    import browser
    try:
        return browser.Browser()
    except browser.BrowserMissing as error:
        raise TestFailure("the cookie path is tested in a real browser, and none could start: %s" % error)


def test_jwt_cookie_from_a_browser_eventsource(ctx):
    system = ctx.system(workers=1, config=hs_config())
    system.wait_healthy()
    token = hs256({"sub": "frank", "exp": int(time.time()) + 600,
                   "rill": {"subscribe": ["news"], "publish": ["news"]}})
    chromium = open_browser()
    if chromium is None:
        return
    with chromium:
        page = chromium.open(system.url("/healthz"))
        page.evaluate("document.cookie = 'rill_jwt=%s; path=/; SameSite=Strict'; window.got = [];"
                      "window.allowed = new EventSource('/v1/topics/news');"
                      "allowed.addEventListener('part', e => got.push(JSON.parse(e.data)));"
                      "window.denied = new EventSource('/v1/topics/secret');"
                      "window.deniedErrors = 0; denied.onerror = () => { deniedErrors++; };"
                      "true" % token)
        page.wait_for("allowed.readyState === 1", 15, "the allowed EventSource open")
        status, body = system.json_request("POST", "/v1/topics/news", {"hello": "browser"}, bearer(token))
        check(status == 202, "publish %s %r" % (status, body))
        page.wait_for("got.some(d => d.hello === 'browser' || (d.data && d.data.hello === 'browser'))", 15, "the message in the browser")
        page.wait_for("denied.readyState === 2 && deniedErrors >= 1", 15, "the forbidden EventSource failed")
        check(page.evaluate("got.length") == 1, "the allowed stream got %r" % page.evaluate("JSON.stringify(got)"))


async def frame_where(ws, predicate):
    """The first JSON frame on ws that predicate accepts (15 s for each frame)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if predicate(frame):
            return frame


def test_jwt_websocket_reads_what_its_token_allows(ctx):
    """A WebSocket's upgrade is checked as an HTTP stream is (the subjects
    it names against the token's claims), and so is every subscribe and
    publish message on the open socket, against the upgrade's token."""
    import websockets
    system = ctx.system(workers=1, config=hs_config())
    system.wait_healthy()
    now = int(time.time())
    token = hs256({"sub": "alice", "exp": now + 600,
                   "rill": {"subscribe": ["ws.ok", "ws.more"], "publish": ["ws.ok"]}})
    url = "ws://127.0.0.1:%d" % system.port

    async def scenario():
        try:
            async with websockets.connect(url + "/v1/topics/ws.secret", extra_headers=bearer(token)):
                pass
            raise TestFailure("a WebSocket on a topic the token does not allow was opened")
        except websockets.exceptions.InvalidStatusCode as refusal:
            check(refusal.status_code == 403, "the upgrade answered %s" % refusal.status_code)
        async with websockets.connect(url + "/v1/topics/ws.ok", extra_headers=bearer(token)) as ws:
            # The socket's own subscription is known to the broker (its
            # notice) before anything is published on it below.
            await frame_where(ws, lambda f: f.get("event") == "subscribed" and f["data"].get("topic") == "ws.ok")
            # Refused on the open socket: a topic, a job, a publish the claims do not allow.
            for number, op in enumerate(({"op": "subscribe", "topic": "ws.secret"},
                                         {"op": "subscribe", "topic": "ws.*"},
                                         {"op": "subscribe", "job": "0" * 32},
                                         {"op": "publish", "topic": "ws.more", "data": 1})):
                op["id"] = number
                await ws.send(json.dumps(op))
                reply = await frame_where(ws, lambda f: f.get("event") == "error")
                check(reply["data"]["code"] == "forbidden" and reply["data"]["op"] == op["op"] and
                      reply["data"].get("id") == number, (op, reply))
            # Allowed: another topic of the claims, and a publish on the socket.
            await ws.send(json.dumps({"op": "subscribe", "topic": "ws.more", "id": 10}))
            await ws.send(json.dumps({"op": "publish", "topic": "ws.ok", "data": {"n": 1}, "id": 11}))
            frame = await frame_where(ws, lambda f: f.get("event") in ("part", "error"))
            check(frame["event"] == "part" and frame["topic"] == "ws.ok" and frame["data"] == {"n": 1}, frame)
    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_jwt_websocket_closes_when_its_token_expires(ctx):
    """An open WebSocket acts on its upgrade token's claims; when that token
    passes exp (and the leeway), the socket gets a token_expired error frame
    and close 4001 within a heartbeat, while a socket with a longer token
    goes on."""
    import websockets
    system = ctx.system(workers=1, config=hs_config(jwt={"keys": [{"alg": "HS256", "secret": SECRET}], "leeway_s": 0},
                                                    stream_heartbeat_ms=300, auth_token=ADMIN_TOKEN))
    system.wait_healthy()
    now = int(time.time())
    claims = {"sub": "alice", "rill": {"subscribe": ["ws.exp"]}}
    short = hs256(dict(claims, exp=now + 3))
    long = hs256(dict(claims, exp=now + 600))
    url = "ws://127.0.0.1:%d/v1/topics/ws.exp" % system.port

    async def scenario():
        async with websockets.connect(url, extra_headers=bearer(short)) as expiring, \
                websockets.connect(url, extra_headers=bearer(long)) as lasting:
            frames = []
            try:
                while True:
                    frames.append(json.loads(await asyncio.wait_for(expiring.recv(), 15)))
            except websockets.exceptions.ConnectionClosed as closed:
                code = closed.code
            took = time.time() - now
            errors = [f for f in frames if f.get("event") == "error"]
            check(code == 4001, "closed with %s, not 4001" % code)
            check(errors and errors[-1]["data"]["code"] == "token_expired", frames)
            check(2.0 <= took <= 6.0, "closed %.1f s after the token was made (exp in 3 s)" % took)
            # The other socket is still served: subscribed (its notice, once
            # the broker answered), it gets what is published after.
            await frame_where(lasting, lambda f: f.get("event") == "subscribed")
            status, _ = system.json_request("POST", "/v1/topics/ws.exp", {"n": 1},
                                            headers={"Authorization": "Bearer " + ADMIN_TOKEN})
            check(status == 202, status)
            frame = await frame_where(lasting, lambda f: f.get("event") == "part")
            check(frame["data"] == {"n": 1}, frame)
    asyncio.run(asyncio.wait_for(scenario(), 60))
