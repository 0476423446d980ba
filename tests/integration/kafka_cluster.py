"""A Kafka cluster for the integration tests: librdkafka's mock cluster.

kafka_mock_cluster (built next to weir from kafka_mock_cluster.cpp) runs the
brokers on 127.0.0.1 and prints their bootstrap address; it stays up while
its standard input is open. `with MockCluster(...) as cluster:` kills it at
the end whatever happens. Every wait is bounded.
"""
import json
import os
import select
import subprocess

START_LIMIT_S = 15
ANSWER_LIMIT_S = 30


class MockCluster:
    def __init__(self, binary: str, topics: dict[str, int], brokers: int = 3):
        if not os.path.exists(binary):
            raise SystemExit(f"FAIL: {binary} is missing (it is built with weir's tests)")
        self.args = [binary, "--brokers", str(brokers)]
        for name, partitions in topics.items():
            self.args += ["--topic", f"{name}:{partitions}"]
        self.process = None
        self.bootstrap = ""

    def __enter__(self):
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        start_new_session=True)
        line = self._line(START_LIMIT_S)
        if not line.startswith("bootstrap "):
            raise SystemExit(f"FAIL: the mock cluster said {line!r} instead of its bootstrap address")
        self.bootstrap = line.split(" ", 1)[1]
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            try:
                self.process.stdin.close()  # its way to end
                self.process.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                self.process.kill()
                self.process.wait(timeout=10)

    def _line(self, limit_s: float) -> str:
        ready, _, _ = select.select([self.process.stdout], [], [], limit_s)
        if not ready:
            self.process.kill()
            raise SystemExit(f"FAIL: the mock cluster did not answer within {limit_s}s")
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"FAIL: the mock cluster ended (exit {self.process.wait(timeout=10)})")
        return line.rstrip("\n")

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line(ANSWER_LIMIT_S)

    def offsets(self, group: str, topic: str) -> list[dict]:
        """[{partition, committed, high}] of the group on the topic."""
        answer = json.loads(self.ask(f"committed {group} {topic}"))
        if "error" in answer:
            raise SystemExit(f"FAIL: reading the committed offsets of {group} on {topic}: {answer['error']}")
        return answer["partitions"]

    def committed_to_end(self, group: str, topic: str):
        """The offsets when the group committed the end of every partition, else None."""
        parts = self.offsets(group, topic)
        return parts if all(p["committed"] == p["high"] for p in parts) else None

