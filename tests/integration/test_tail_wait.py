"""test_tail_wait.py - a `tail` of a missing file waits for it, as `tail -F`
does ("wait", default true; docs/API.md), and still refuses what leads out
of the tail root when it appears.
"""
import os
import tempfile
import time

from harness import check


def start(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy(workers=1)
    root = os.path.join(system.run_dir, "tail")
    check(os.path.isdir(root), "the worker should create the default tail root (run dir/tail)")
    return system, root


def job_event(stream):
    """The next event of the job (heartbeats and notices skipped), or None at the end."""
    while True:
        event = stream.next_event()
        if event is None or "seq" in event:
            return event


def submit(system, args):
    status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "tail", "args": args})
    check(status == 202, "detach answered %s %r" % (status, body))
    return body["jobs"][0]


def test_tail_waits_for_a_missing_file_then_follows_it_from_its_start(ctx):
    system, root = start(ctx)
    job_id = submit(system, {"path": "later/deeper/app.log"})  # neither the directories nor the file exist
    stream = system.stream("GET", "/v1/stream?job=" + job_id)
    check(stream.status == 200, "status %s" % stream.status)
    system.wait_started(job_id, "tail")  # "running" says only that the broker sent it
    time.sleep(1.5)  # more than the worker's 1 s recheck: still waiting, no error
    info = system.job_status(job_id)
    check(info["state"] == "running" and "error" not in info, "waiting job: %r" % info)
    # The directories appear one by one, then the file with a line already in it.
    os.makedirs(os.path.join(root, "later"))
    time.sleep(0.3)
    os.makedirs(os.path.join(root, "later", "deeper"))
    time.sleep(0.3)
    path = os.path.join(root, "later", "deeper", "app.log")
    with open(path, "w", encoding="utf-8") as f:
        f.write("there at creation\n")
        f.flush()
        time.sleep(0.3)
        f.write("appended\n")
    first = job_event(stream)
    check(first is not None and first["event"] == "part" and first["data"] == {"line": "there at creation"},
          "the file is followed from its start: %r" % first)
    second = job_event(stream)
    check(second["event"] == "part" and second["data"] == {"line": "appended"}, second)
    with open(path, "a", encoding="utf-8") as f:
        f.write("third\n")
    third = job_event(stream)
    check(third["data"] == {"line": "third"} and third["seq"] == 3, third)
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 200 and body["state"] == "cancelled", "cancel answered %s %r" % (status, body))
    end = job_event(stream)
    check(end["event"] == "error" and end["data"]["code"] == "cancelled", end)
    stream.close()


def test_tail_wait_false_fails_at_once_and_a_waiting_job_can_be_cancelled(ctx):
    system, root = start(ctx)
    started = time.monotonic()
    events = system.stream("POST", "/v1/jobs", {"kind": "tail", "args": {"path": "nope.log", "wait": False}}
                           ).read_all()
    events = [e for e in events if "seq" in e]
    check(len(events) == 1 and events[0]["event"] == "error" and events[0]["data"]["code"] == "not_found", events)
    check(time.monotonic() - started < 5, "wait:false fails at once")
    for bad in ("yes", 1, None):
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "tail", "args": {"path": "a", "wait": bad}})
        check(status == 422 and body["error"] == "invalid_args", "wait %r answered %s %r" % (bad, status, body))
    # A job waiting for its file is cancelled like any other; the file
    # appearing later changes nothing.
    job_id = submit(system, {"path": "never.log"})
    system.wait_started(job_id, "tail")
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 200 and body["state"] == "cancelled", "cancel answered %s %r" % (status, body))
    with open(os.path.join(root, "never.log"), "w") as f:
        f.write("late\n")
    time.sleep(0.5)
    check(system.job_status(job_id)["state"] == "cancelled", system.job_status(job_id))


def test_tail_wait_refuses_what_appears_out_of_the_root(ctx):
    system, root = start(ctx)
    outside = tempfile.mkdtemp(prefix="rill-outside-")
    try:
        with open(os.path.join(outside, "secret.log"), "w") as f:
            f.write("secret\n")
        # The file appears as a symlink that leads out.
        file_job = submit(system, {"path": "escape.log", "from": "start"})
        # A directory of the path appears as a symlink that leads out.
        directory_job = submit(system, {"path": "out/secret.log", "from": "start"})
        # Both wait for their path before it appears ("running" says only that the broker sent them).
        system.wait_started([file_job, directory_job], "tail")
        os.symlink(os.path.join(outside, "secret.log"), os.path.join(root, "escape.log"))
        os.symlink(outside, os.path.join(root, "out"))
        for job_id in (file_job, directory_job):
            system.wait_for(lambda: system.job_status(job_id)["state"] == "failed", timeout=10,
                            what="job %s refused" % job_id)
            events = [e for e in system.stream("GET", "/v1/stream?job=" + job_id).read_all() if "seq" in e]
            check([e["event"] for e in events] == ["error"] and events[0]["data"]["code"] == "forbidden",
                  "nothing of the outside file is read: %r" % events)
    finally:
        for name in ("escape.log", "out"):
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        os.unlink(os.path.join(outside, "secret.log"))
        os.rmdir(outside)
