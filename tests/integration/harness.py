"""What every integration test script uses: bounded waits, free ports and a
`weir run` in a process of its own.

Each script puts its own folder on sys.path and imports from here, so a wait
fails the same way everywhere: `FAIL: <what>: not within <limit>s`, then
what the caller adds (a log's tail, say).
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, limit_s: float, every_s: float = 0.05, context=None):
    """Polls check() until it returns something truthy, and returns that; after
    limit_s the test fails naming `what`, followed by context() when given."""
    deadline = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"FAIL: {what}: not within {limit_s:.0f}s" + (f"\n{context()}" if context else ""))
        time.sleep(every_s)


STARTED = []  # every Weir made, so that a failure shows their logs


class Weir:
    """One `weir run` of a pipeline written to folder/NAME.yaml, its report and
    log (stderr) beside it, run in the folder in a process group of its own.
    It may be started again (after kill(), say): run N writes NAME-N.log and
    NAME-N.report.json. Every wait is bounded; kill() ends the group, whatever
    it is doing (kill -9), so a test's cleanup leaves nothing behind."""

    def __init__(self, weir: str, folder: str, name: str, yaml: str, log_level: str = "info"):
        STARTED.append(self)
        self.weir, self.folder, self.name, self.log_level = weir, folder, name, log_level
        self.pipeline = os.path.join(folder, f"{name}.yaml")
        with open(self.pipeline, "w") as f:
            f.write(yaml)
        self.runs = 0
        self.report = self.log_path = None
        self.process = None
        self.log = None
        self.stopped_in = None

    def log_of(self, run: int) -> str:
        return os.path.join(self.folder, f"{self.name}-{run}.log")

    def start(self):
        self.runs += 1
        self.report = os.path.join(self.folder, f"{self.name}-{self.runs}.report.json")
        self.log_path = self.log_of(self.runs)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [self.weir, "run", self.pipeline, "--no-progress", "--report", self.report, "--log-level", self.log_level],
            stdout=subprocess.DEVNULL, stderr=self.log, cwd=self.folder, start_new_session=True)
        return self

    def log_text(self, run: int = 0) -> str:
        """The whole log of run `run` (the latest by default)."""
        if self.log and not self.log.closed:
            self.log.flush()
        try:
            with open(self.log_of(run or self.runs), errors="replace") as f:
                return f.read()
        except OSError:
            return "(no log)"

    def log_tail(self) -> str:
        return self.log_text()[-3000:]

    def exit_code(self, limit_s: float, waiting_for: str = "") -> int:
        """The run's exit code; the test fails when it has not ended within limit_s."""
        try:
            return self.process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise SystemExit(f"FAIL: {self.name} did not end within {limit_s}s{waiting_for}\n{self.log_tail()}")

    def terminate(self, limit_s: float) -> int:
        """SIGTERM, then the exit code (stopped_in: how long the run took to end)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.exit_code(limit_s, " of SIGTERM")
        self.stopped_in = time.monotonic() - started
        return code

    def read_report(self) -> dict:
        with open(self.report) as f:
            return json.load(f)

    def kill(self):
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.log:
            self.log.close()


def print_logs():
    """Every run's log of every Weir made, once: what a failure shows."""
    while STARTED:
        w = STARTED.pop(0)
        for run in range(1, w.runs + 1):
            print(f"--- log of {w.name} (run {run}) ---\n{w.log_text(run)[-3000:]}")


@contextlib.contextmanager
def work_folder():
    """A temporary folder, removed at the end unless WEIR_TEST_KEEP is set; on
    a failure the logs of the runs in it are printed first."""
    keep = bool(os.environ.get("WEIR_TEST_KEEP"))
    folder = tempfile.mkdtemp(prefix="weir-test-")
    if keep:
        print(f"keeping {folder}")
    try:
        yield folder
    except BaseException:
        print_logs()
        raise
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
