"""test_tail_many.py - kernel limits are not spent per job (docs/DESIGN.md,
"Promises"): 500 concurrent detached `tail` jobs in one worker - more than
the default per-user limit of 128 inotify instances - on 250 files in 5
directories (two jobs per file), each delivers the line appended after it
started; the worker holds one inotify instance for them all; then every job
is cancelled.
"""
import os

from harness import check, open_files
from test_kinds import kinds_config

JOBS = 500
FILES = 250
DIRECTORIES = 5


def inotify_instances(process):
    """How many inotify instances the process holds (its fds that are one)."""
    return open_files(process.popen.pid).count("anon_inode:inotify")


def config_for_many_jobs():
    config = kinds_config()
    # The broker caps a worker's credit (max_worker_credit) where that key
    # exists: let one worker hold all the jobs.
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "docs", "CONFIG.md"), encoding="utf-8") as f:
        if "max_worker_credit" in f.read():
            config["max_worker_credit"] = 1000
    return config


def test_500_tail_jobs_share_one_inotify_instance(ctx):
    system = ctx.system(workers=1, config=config_for_many_jobs(), worker_args=["--credit", "1000"])
    system.wait_healthy()
    root = os.path.join(system.run_dir, "tail")
    paths = []
    for d in range(DIRECTORIES):
        os.makedirs(os.path.join(root, "d%d" % d))
    for i in range(FILES):
        path = "d%d/f%d.log" % (i % DIRECTORIES, i)
        with open(os.path.join(root, path), "w") as f:
            f.write("before the job\n")
        paths.append(path)
    jobs = [{"kind": "tail", "args": {"path": paths[i % FILES]}} for i in range(JOBS)]
    status, body = system.json_request("POST", "/v1/jobs?detach=1", jobs)
    check(status == 202 and len(body["jobs"]) == JOBS, "detach answered %s %r" % (status, body))
    job_ids = body["jobs"]
    waiting = set(job_ids)

    def all_running():
        for job_id in list(waiting):
            state = system.job_status(job_id)["state"]
            check(state in ("queued", "running"), "job %s is %s" % (job_id, state))
            if state == "running":
                waiting.discard(job_id)
        return not waiting
    system.wait_for(all_running, timeout=60, what="%d tail jobs running" % JOBS)
    # "running" says the broker sent them; lines are appended only once the
    # worker started every job and holds its file open (each takes the
    # file's end as it opens it: a line appended before would not be a part).
    system.wait_started(job_ids, "tail", timeout=60)
    real_root = os.path.realpath(root) + "/"
    worker_pid = system.workers[0].popen.pid
    system.wait_for(lambda: sum(target.startswith(real_root) for target in open_files(worker_pid)) == JOBS,
                    timeout=60, what="the worker to open the files of %d tail jobs" % JOBS)
    instances = inotify_instances(system.workers[0])
    check(instances == 1, "the worker holds %d inotify instances for %d tail jobs" % (instances, JOBS))

    for i, path in enumerate(paths):
        with open(os.path.join(root, path), "a") as f:
            f.write("line of file %d\n" % i)
    pending = set(job_ids)

    def all_delivered():
        for job_id in list(pending):
            job = system.job_status(job_id)
            check(job["state"] == "running" and job["parts"] <= 1, "job %s: %r" % (job_id, job))
            if job["parts"] == 1:
                pending.discard(job_id)
        return not pending
    system.wait_for(all_delivered, timeout=60, what="a part from each of %d tail jobs" % JOBS)
    # What they delivered: the line appended, once (a few jobs read from their retained part).
    for index in range(0, JOBS, 50):
        stream = system.stream("GET", "/v1/stream?job=%s" % job_ids[index])
        event = stream.next_event()
        check(event is not None and event["event"] == "part"
              and event["data"] == {"line": "line of file %d" % (index % FILES)}, event)
        stream.close()

    for job_id in job_ids:
        status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
        check(status == 200 and body["state"] == "cancelled", "cancel answered %s %r" % (status, body))
    check(inotify_instances(system.workers[0]) == 1, "the shared inotify instance stays for the next jobs")
