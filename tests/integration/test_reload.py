"""test_reload.py - SIGHUP reloads the config in every process without
dropping a stream or a job; a bad config is refused and the old one stays."""
import json
import signal

from harness import check, check_job_events


def test_sighup_reloads_without_dropping_streams(ctx):
    system = ctx.system(workers=1, config={"max_jobs_per_request": 5})
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 10, "interval_ms": 100}})
    check(stream.next_event()["event"] == "part")

    with open(system.config_path, "w") as f:
        json.dump({"max_jobs_per_request": 2}, f)
    for process in system.processes:
        process.signal(signal.SIGHUP)
    system.wait_for(lambda: system.request("POST", "/v1/jobs?detach=1", [{"kind": "demo"}] * 3)[0] == 413,
                    what="the frontend applying the new limit")

    with open(system.config_path, "w") as f:
        f.write('{"max_jobs_per_request": "many"}')
    for process in system.processes:
        process.signal(signal.SIGHUP)
    # Each process has read the bad config and refused it before the old one is checked.
    for process in system.processes:
        system.wait_for(lambda: "config refused" in process.log_text(), timeout=15,
                        what="%s to refuse the bad config" % process.name)
    status, _, body = system.request("POST", "/v1/jobs?detach=1", [{"kind": "demo"}] * 2)
    check(status == 202, "the old (reloaded) config should stay in force: %s %r" % (status, body))
    check(system.request("POST", "/v1/jobs?detach=1", [{"kind": "demo"}] * 3)[0] == 413)

    # The stream opened before both reloads ends as if nothing happened.
    events = [stream.events[0]] + [e for e in iter(stream.next_event, None)]
    check_job_events(events, 10)
    for process in system.processes:
        check(process.popen.poll() is None, "%s died on SIGHUP" % process.name)
        check("config refused" in process.log_text(), "%s did not say why it refused the config" % process.name)
