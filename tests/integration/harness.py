"""What every integration test script uses: bounded waits and free ports.

Each script puts its own folder on sys.path and imports from here, so a wait
fails the same way everywhere: `FAIL: <what>: not within <limit>s`, then
what the caller adds (a log's tail, say).
"""
import socket
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
