#!/usr/bin/env python3
"""run.py - runs rill's integration tests against one build directory.

    python3 tests/integration/run.py --build build [-k substring]

Discovers every test_*.py beside this file and every test_* function in
them. Each function receives a Context whose system() starts a real rill
system; after the function, every system is stopped and must exit cleanly
(status 0, no sanitizer report). Ends with the line "N passed, N failed".
"""
import argparse
import importlib.util
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_TIMEOUT = 180  # seconds; no test comes near it when it passes


class TestTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise TestTimeout("test timed out after %d s" % TEST_TIMEOUT)
sys.path.insert(0, HERE)

import harness  # noqa: E402


class Context:
    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.systems = []

    def system(self, environment=None, **kwargs):
        """A new system; environment: variables its processes start with
        besides this process's (the system keeps them in system.env)."""
        saved = {name: os.environ.get(name) for name in (environment or {})}
        os.environ.update(environment or {})
        try:
            system = harness.System(self.build_dir, **kwargs)
        finally:
            for name, value in saved.items():
                if value is None:
                    del os.environ[name]
                else:
                    os.environ[name] = value
        self.systems.append(system)
        return system

    def finish(self, keep_logs):
        problems = []
        for system in self.systems:
            problems += system.stop()
        if not keep_logs:
            for system in self.systems:
                system.cleanup()
        return problems


def discover(selected):
    tests = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attribute in sorted(vars(module)):
            function = getattr(module, attribute)
            if attribute.startswith("test_") and callable(function):
                full = "%s::%s" % (name[:-3], attribute)
                if selected is None or selected in full:
                    tests.append((full, function))
    return tests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("-k", dest="selected")
    arguments = parser.parse_args()
    build_dir = os.path.abspath(arguments.build)
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = 0
    for full, function in discover(arguments.selected):
        context = Context(build_dir)
        started = time.monotonic()
        error = None
        # A hung test must not hang the run (streams send heartbeats, so a
        # read can wait for ever): SIGALRM interrupts it after TEST_TIMEOUT.
        signal.alarm(TEST_TIMEOUT)
        try:
            function(context)
        except Exception:  # a test's failure, whatever its kind, is reported and counted
            error = traceback.format_exc()
            for system in context.systems:
                error += "\n" + system.logs_tail()
        finally:
            signal.alarm(0)
        problems = context.finish(keep_logs=error is not None)
        if problems and error is None:
            error = "processes did not stop cleanly:\n" + "\n".join(problems)
        elapsed = time.monotonic() - started
        if error is None:
            passed += 1
            print("PASS %s (%.1fs)" % (full, elapsed), flush=True)
        else:
            failed += 1
            print("FAIL %s (%.1fs)\n%s" % (full, elapsed, error), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
