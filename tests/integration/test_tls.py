"""test_tls.py - HTTPS (docs/CONFIG.md "TLS"): with tls_cert/tls_key (or
--tls-cert/--tls-key) the frontend serves TLS on its listen address, HTTP/2
or HTTP/1.1 chosen by ALPN; SIGHUP reloads the certificate for new
connections without dropping open streams; a missing or mismatched file
stops the frontend at start with one line naming it.

Every certificate is self-signed, made by the `openssl` command in the
test's own directory. The browser test needs Debian's `chromium` (as
test_dashboard.py; RILL_NO_BROWSER=1 skips it loudly).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

from harness import TestFailure, check, check_job_events, unverified_tls_context

DEMO = {"kind": "demo", "args": {"parts": 3, "interval_ms": 50}}


def make_certificate(directory, name, common_name):
    """A self-signed EC certificate and its key: (cert path, key path, DER bytes)."""
    if shutil.which("openssl") is None:
        raise TestFailure("the TLS tests need the `openssl` command (Debian package openssl)")
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + common_name,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, der


def tls_system(ctx, config=None, flags=False, workers=1):
    """A system whose frontend serves HTTPS with a fresh certificate, named
    by the config (relative to it) or, with flags=True, by --tls-cert/--tls-key."""
    config = dict(config or {})
    if not flags:
        config.update({"tls_cert": "tls/server.crt", "tls_key": "tls/server.key"})
    system = ctx.system(workers=workers, frontend=False, config=config)
    cert, key, der = make_certificate(os.path.join(system.dir, "tls"), "server", "rill-test-one")
    extra = ["--tls-cert", cert, "--tls-key", key] if flags else []
    system.frontend = system.start_frontend(extra=extra)
    system.https = True
    system.wait_healthy()
    system.cert, system.key, system.der = cert, key, der
    return system


def peer_certificate(system, alpn=None):
    """The DER certificate a new TLS connection is served with."""
    with socket.create_connection(("127.0.0.1", system.port), timeout=10) as raw:
        with unverified_tls_context(alpn).wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def curl(system, *args):
    """curl over HTTP/2 (-k: the certificate is self-signed); its stdout."""
    result = subprocess.run(["curl", "-sS", "-k", "--http2", "--max-time", "30"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(result.returncode == 0, "curl %r failed (%d): %s" % (args, result.returncode, result.stderr))
    return result.stdout.decode()


def ndjson_events(text):
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [e for e in events if e.get("event") not in ("heartbeat", "accepted")]


def test_tls_h2_by_alpn_with_curl_and_http1_with_python(ctx):
    system = tls_system(ctx)
    log = system.frontend.log_text()
    check("serving HTTPS" in log and "listening on" in log and "(https)" in log, log)

    # curl negotiates h2 by ALPN and streams a submission's parts.
    out = curl(system, "-N", "-X", "POST", "-H", "Content-Type: application/json", "--data", json.dumps(DEMO),
               "-w", "\nhttp_version=%{http_version}\n", system.url("/v1/jobs"))
    body, _, version = out.rpartition("http_version=")
    check(version.strip() == "2", "curl --http2 did not negotiate h2: %r" % version)
    check_job_events(ndjson_events(body), 3)

    # A plain HTTP/1.1 client over TLS: ALPN http/1.1, and no ALPN at all.
    for alpn, expected in ((["http/1.1"], "http/1.1"), (None, None)):
        conn = http.client.HTTPSConnection("127.0.0.1", system.port, timeout=30,
                                           context=unverified_tls_context(alpn))
        conn.request("POST", "/v1/jobs", body=json.dumps(DEMO))
        response = conn.getresponse()
        check(response.status == 200 and response.version == 11, "%s %s" % (response.status, response.version))
        check(response.getheader("Transfer-Encoding") == "chunked", response.getheaders())
        check(conn.sock.selected_alpn_protocol() == expected, conn.sock.selected_alpn_protocol())
        check(conn.sock.version() in ("TLSv1.2", "TLSv1.3"), conn.sock.version())
        lines = []
        while True:
            line = response.readline()
            if not line:
                break
            lines.append(line.decode())
        conn.close()
        check_job_events(ndjson_events("".join(lines)), 3)

    # TLS 1.2 at least: a TLS 1.1 client is refused, the same client allowed 1.2 is served.
    def handshake(maximum):
        context = unverified_tls_context()
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
        with socket.create_connection(("127.0.0.1", system.port), timeout=10) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.version()
    check(handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2", "TLS 1.2 must be served")
    try:
        version = handshake(ssl.TLSVersion.TLSv1_1)
        raise TestFailure("a TLS 1.1 handshake succeeded: %s" % version)
    except (ssl.SSLError, OSError) as error:
        check(not isinstance(error, TestFailure), error)

    # Cleartext HTTP on the TLS port gets no HTTP answer.
    with socket.create_connection(("127.0.0.1", system.port), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(100)
        except ConnectionResetError:
            answer = b""
        check(not answer.startswith(b"HTTP/"), "cleartext was answered on the TLS port: %r" % answer)
    check(system.frontend.popen.poll() is None, "the frontend died")


def test_tls_dashboard_in_a_browser_speaks_h2(ctx):
    if os.environ.get("RILL_NO_BROWSER") == "1":
        print("!!!!! SKIPPED: TLS browser test (RILL_NO_BROWSER=1) !!!!!", flush=True)
        return
    system = tls_system(ctx)
    import browser
    try:
        chromium = browser.Browser(extra_args=("--ignore-certificate-errors",))
    except browser.BrowserMissing as error:
        raise TestFailure("the TLS dashboard is tested in a real browser, and none could start: %s\n"
                          "(install Debian's `chromium`, or set RILL_NO_BROWSER=1 to skip loudly)" % error)
    with chromium:
        page = chromium.open(system.url("/"))
        page.wait_for("document.readyState === 'complete' && location.protocol === 'https:'", 20,
                      "the dashboard over https")
        protocol = page.evaluate("performance.getEntries()[0].nextHopProtocol")
        check(protocol == "h2", "the page was not loaded over h2: %r" % protocol)
        # The page's own API calls go over the same h2 connection.
        page.evaluate("""fetch('/v1/jobs?detach=1', {method: 'POST', body: JSON.stringify({kind: 'demo'})})
            .then(r => { const entry = performance.getEntriesByType('resource').pop();
                         window.tlsResult = {status: r.status, protocol: entry && entry.nextHopProtocol}; })
            .catch(e => { window.tlsResult = {error: String(e)}; }); 1""")
        result = page.wait_for("window.tlsResult", 20, "the page's fetch over https")
        check(result == {"status": 202, "protocol": "h2"}, "fetch over TLS: %r" % (result,))
        problems = [p for p in page.problems() if "favicon" not in p]
        check(not problems, "the page reported problems over https: %r" % problems)


def test_tls_sighup_reloads_the_certificate_and_keeps_streams(ctx):
    # Flags, no config file: SIGHUP still re-reads the certificate files.
    system = tls_system(ctx, flags=True)
    check(peer_certificate(system) == system.der, "not served with the configured certificate")

    slow = {"kind": "demo", "args": {"parts": 12, "interval_ms": 150}}
    stream = system.stream("POST", "/v1/jobs", slow)  # HTTP/1.1 over TLS
    check(stream.status == 200, stream.status)
    first = stream.next_event()
    check(first is not None and first["event"] == "part", first)
    h2_stream = subprocess.Popen(["curl", "-sS", "-k", "--http2", "-N", "--max-time", "60", "-X", "POST",
                                  "--data", json.dumps(slow), "-w", "\nhttp_version=%{http_version}\n",
                                  system.url("/v1/jobs")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)  # the h2 stream is open before the reload

    # A new certificate (another subject, another serial) in the same files.
    directory = os.path.dirname(system.cert)
    new_cert, new_key, new_der = make_certificate(directory, "next", "rill-test-two")
    check(new_der != system.der, "openssl made the same certificate twice")
    shutil.copyfile(new_key, system.key)
    shutil.copyfile(new_cert, system.cert)
    system.frontend.signal(signal.SIGHUP)
    system.wait_for(lambda: peer_certificate(system) == new_der, timeout=10,
                    what="a new connection served with the new certificate")
    check("certificate %s reloaded" % system.cert in system.frontend.log_text(), system.frontend.log_text())

    # A bad certificate is refused with its reason; the new one stays.
    with open(system.cert, "w") as f:
        f.write("not a certificate\n")
    system.frontend.signal(signal.SIGHUP)
    system.wait_for(lambda: "certificate refused" in system.frontend.log_text(), timeout=10,
                    what="the bad certificate refused")
    log = system.frontend.log_text()
    check("the old one stays" in log and system.cert in log, log)
    check(peer_certificate(system, alpn=["h2"]) == new_der, "the refused certificate replaced the good one")
    status, body = system.json_request("POST", "/v1/jobs?detach=1", DEMO)
    check(status == 202, "new connections work after a refused reload: %s %r" % (status, body))

    # Both streams opened before the reloads end as if nothing happened.
    events = [first] + [e for e in iter(stream.next_event, None)]
    check_job_events(events, 12)
    stream.close()
    out, err = h2_stream.communicate(timeout=60)
    check(h2_stream.returncode == 0, "the h2 stream broke across the reload: %s" % err)
    body, _, version = out.decode().rpartition("http_version=")
    check(version.strip() == "2", version)
    check_job_events(ndjson_events(body), 12)
    check(system.frontend.popen.poll() is None, "the frontend died on SIGHUP")


def test_tls_connection_accepted_before_a_reload_still_handshakes(ctx):
    # Accepted before the reload, its ClientHello sent after: h2o keeps a
    # bare pointer to the old context for it, which must still be alive
    # when no open connection holds it any more (tls.c "Why a wait"; the
    # ASan build turns a too-early free into a failure here).
    system = tls_system(ctx)
    early = socket.create_connection(("127.0.0.1", system.port), timeout=10)
    time.sleep(0.2)
    new_cert, new_key, new_der = make_certificate(os.path.dirname(system.cert), "next", "rill-test-two")
    shutil.copyfile(new_key, system.key)
    shutil.copyfile(new_cert, system.cert)
    system.frontend.signal(signal.SIGHUP)
    system.wait_for(lambda: peer_certificate(system) == new_der, timeout=10, what="the new certificate")
    system.frontend.signal(signal.SIGHUP)  # another reload: contexts old enough to go are freed now
    system.wait_for(lambda: system.frontend.log_text().count("reloaded for new connections") == 2, timeout=10,
                    what="the second reload")
    with unverified_tls_context().wrap_socket(early) as tls:
        check(tls.getpeercert(binary_form=True) == system.der, "the early connection's certificate")
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
        check(answer.startswith(b"HTTP/1.1 200"), answer[:200])


def wait_exit(process, timeout=15.0):
    try:
        return process.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s did not exit on a bad TLS setup:\n%s" % (process.name, process.log_text()))


def test_tls_bad_certificate_or_key_stops_the_frontend_at_start(ctx):
    system = ctx.system(workers=0, frontend=False,
                        config={"tls_cert": "tls/server.crt", "tls_key": "tls/missing.key"})
    cert, key, _ = make_certificate(os.path.join(system.dir, "tls"), "server", "rill-test-one")
    _, other_key, _ = make_certificate(os.path.join(system.dir, "tls"), "other", "rill-test-other")
    missing = os.path.join(system.dir, "tls", "missing.key")
    cases = [
        # (extra flags, what the one error line must say)
        ([], "tls_key %s cannot be read: No such file or directory" % missing),
        (["--tls-key", other_key], "tls_key %s does not match the certificate in %s" % (other_key, cert)),
        (["--tls-cert", key, "--tls-key", key], "tls_cert %s refused: no start line" % key),
    ]
    for number, (extra, expected) in enumerate(cases):
        process = system.start_frontend(port=system.port, name="frontend%d" % number, extra=extra)
        status = wait_exit(process)
        process.expected_exit = status
        check(status not in (0, None) and status > 0, "exit status %r with %r" % (status, extra))
        text = process.log_text()
        errors = [line for line in text.splitlines() if " error " in line]
        check(len(errors) == 1 and expected in errors[0], "expected one error line with %r:\n%s" % (expected, text))
        check("listening on" not in text, "it listened before refusing: %s" % text)
        check(not any(mark in text for mark in ("AddressSanitizer", "Segmentation", "Aborted")), text)
    # A flag-only half pair is refused too, without a config.
    flags_only = ctx.system(workers=0, frontend=False)
    process = flags_only.start_frontend(extra=["--tls-cert", cert])
    process.expected_exit = wait_exit(process)
    check(process.expected_exit > 0, process.expected_exit)
    check("the certificate is set but its key is not" in process.log_text(), process.log_text())


def test_tls_sigterm_with_handshakes_pending_exits_cleanly(ctx):
    system = tls_system(ctx)
    # Connections that never finish (or never start) their TLS handshake:
    # h2o holds them until its handshake timeout; SIGTERM must not wait
    # for it, nor trip over them while freeing.
    silent = socket.create_connection(("127.0.0.1", system.port), timeout=10)
    partial = socket.create_connection(("127.0.0.1", system.port), timeout=10)
    partial.sendall(b"\x16\x03\x01\x02\x00")  # the start of a ClientHello record
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 15, "interval_ms": 100}})
    check(stream.next_event()["event"] == "part")
    time.sleep(0.3)
    started = time.monotonic()
    status = system.frontend.stop()
    check(status == 0, "the frontend exited with %r:\n%s" % (status, system.frontend.log_text()))
    check(time.monotonic() - started < 5, "SIGTERM waited for the pending handshakes")
    rest = []
    while True:
        event = stream.next_event()
        if event is None:
            break
        rest.append(event)
    check(rest and rest[-1]["event"] == "closing", "no closing notice over TLS: %r" % rest[-3:])
    for sock in (silent, partial):
        check(sock.recv(100) == b"", "a pending handshake's connection was not closed")
        sock.close()
