#!/usr/bin/env python3
"""At-least-once through Kafka: the kafka source and sink against librdkafka's
mock cluster (three brokers on 127.0.0.1, started by kafka_mock_cluster).

usage: kafka_group.py WEIR MOCK_CLUSTER group|bound|sink-errors|example

group        50,000 numbered messages produced by weir's kafka sink (key and
             attribute per message) to a topic of 4 partitions, consumed by
             two weir processes in one consumer group, each writing to its own
             file. When the first has written a quarter, it is killed
             (kill -9) and started again. Every message must be in the union
             of the files with its key, partition, offset and header as
             attributes; duplicates at most the in-flight bound of the killed
             process (max_in_flight); the group's committed offset at the end
             of every partition; SIGTERM ends both with exit 0 and balanced
             books, no acknowledgement pending, the second in the middle of
             the rebalance the first one's leaving began.
bound        One consumer with max_in_flight 20 reads 5,000 messages: its
             fetching is paused at the bound and resumed hundreds of times;
             every message is read exactly once (no crash, no rebalance: no
             duplicate either) and the offsets end at the partitions' ends.
sink-errors  The kafka sink where delivery cannot succeed: messages larger
             than the producer's message.max.bytes (refused at once: straight
             to the dead-letter stage, no retry), a topic that does not exist
             (the mock cluster says so) and brokers that go down mid-run (no
             delivery within `timeout`: retried, then dead-lettered). Every
             undelivered message ends in the dead-letter stage with the
             reason; the books balance. Brokers that cannot be reached at
             start: exit 2, saying so.
example      pipelines/kafka-to-file.yaml as it stands, pointed at the mock
             cluster through KAFKA_BROKERS: 1,000 messages produced, all
             written to the file, SIGTERM ends it with balanced books and the
             group's offsets at the end of the topic.

Prints the figures. Every wait is bounded.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_cluster import MockCluster  # noqa: E402
from harness import Weir, wait_for, work_folder  # noqa: E402
from nats_jetstream import check_books, line_count, stop_consumer  # noqa: E402

MESSAGES = 50_000
PARTITIONS = 4
MAX_IN_FLIGHT = 1000
DRAIN_TIMEOUT_S = 10
RUN_LIMIT_S = 180
REREAD = re.compile(r"reads again up to (\d+) messages")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def consumer_yaml(brokers: str, out: str) -> str:
    return f"""
pipeline: kafka-consumer
defaults: {{capacity: 256, drain_timeout: {DRAIN_TIMEOUT_S}s}}
stages:
  ids:
    plugin: kafka
    config:
      brokers: ['{brokers}']
      topics: [ids]
      group: shared
      max_in_flight: {MAX_IN_FLIGHT}
      commit_interval: 200ms
      session_timeout: 6s
      librdkafka_options: {{heartbeat.interval.ms: '500'}}
  out:
    plugin: file
    input: ids
    config: {{path: '{out}', format: json}}
"""


def producer_yaml(brokers: str, topic: str, count: int, extra: str = "", on_error: str = "",
                  dead_letter: str = "", size: str = "0", rate: int = 0) -> str:
    return f"""
pipeline: kafka-producer
defaults: {{drain_timeout: 60s}}
stages:
  ids:
    plugin: generate
    config: {{count: {count}, payload: 'id-{{seq}}', attributes: {{shard: 's{{seq}}'}}, payload_size: {size},
              rate: {rate}}}
  publish:
    plugin: kafka
    input: ids
    replicas: 4
    {on_error}
    config:
      brokers: ['{brokers}']
      topic: {topic}
      key: '{{shard}}'{extra}
{dead_letter}"""


def read_records(path: str) -> tuple[list[dict], int]:
    """The JSON lines of a file, and the lines that are not whole (torn by kill -9)."""
    records, torn = [], 0
    if not os.path.exists(path):
        return records, torn
    with open(path) as f:
        for line in f:
            try:
                if not line.endswith("\n"):
                    raise ValueError("no newline")
                records.append(json.loads(line))
            except ValueError:
                torn += 1
    return records, torn


def seq_of(record: dict) -> int:
    return int(record["payload"][3:])


def check_record(record: dict):
    """What the source attaches, and what the sink carried as a header."""
    a, seq = record["attributes"], seq_of(record)
    problems = []
    if a.get("kafka_key") != f"s{seq}":
        problems.append(f"kafka_key {a.get('kafka_key')!r}")
    if a.get("shard") != f"s{seq}":
        problems.append(f"header shard {a.get('shard')!r}")
    if a.get("kafka_topic") != "ids" or not (0 <= int(a.get("kafka_partition", -1)) < PARTITIONS):
        problems.append(f"topic/partition {a.get('kafka_topic')!r}/{a.get('kafka_partition')!r}")
    if int(a.get("kafka_offset", -1)) < 0 or int(a.get("kafka_timestamp_ms", 0)) <= 0:
        problems.append(f"offset/timestamp {a.get('kafka_offset')!r}/{a.get('kafka_timestamp_ms')!r}")
    if problems:
        raise SystemExit(f"FAIL: message {seq}: " + ", ".join(problems))


def group(weir: str, mock: str) -> None:
    with MockCluster(mock, {"ids": PARTITIONS}) as cluster, work_folder() as folder:
        outs = [os.path.join(folder, f"out-{i}.jsonl") for i in (0, 1)]
        consumers = [Weir(weir, folder, f"consumer-{i}", consumer_yaml(cluster.bootstrap, outs[i])) for i in (0, 1)]
        producer = Weir(weir, folder, "producer", producer_yaml(cluster.bootstrap, "ids", MESSAGES))
        try:
            for c in consumers:
                c.start()
            producer.start()
            wait_for("consumer-0 wrote a quarter", lambda: line_count(outs[0]) >= MESSAGES // 4, RUN_LIMIT_S)
            consumers[0].kill()
            at_kill = line_count(outs[0])
            print(f"kill -9 of consumer-0 after it wrote {at_kill} lines; started again")
            consumers[0].start()
            if producer.exit_code(RUN_LIMIT_S) != 0:
                raise SystemExit(f"FAIL: the producer failed\n{producer.log_tail()}")
            pub = producer.read_report()
            check_books(pub, "producer", "ids")
            produced = pub["stages"]["publish"]["emitted"]

            def union():
                return {seq_of(r) for out in outs for r in read_records(out)[0]}
            wait_for("every message written", lambda: len(union()) >= MESSAGES, RUN_LIMIT_S, 0.5)
            offsets = wait_for("the group committed the end of every partition",
                               lambda: cluster.committed_to_end("shared", "ids"), 60, 0.5)
            # consumer-0 leaving starts a rebalance: consumer-1 gives its
            # partitions up and asks to join again, and the group holds that
            # request for seconds. Stopped then, it must still end at once.
            def revokes():
                return consumers[1].log_text().count("revoked")
            before = revokes()
            took = [stop_consumer(consumers[0])]
            wait_for("consumer-1 giving its partitions up after consumer-0 left", lambda: revokes() > before, 30, 0.02)
            took.append(stop_consumer(consumers[1]))
            for c in consumers:
                check_books(c.read_report(), c.name, "ids")
            after = cluster.offsets("shared", "ids")
        finally:
            for w in consumers + [producer]:
                w.kill()
        (r0, torn0), (r1, torn1) = read_records(outs[0]), read_records(outs[1])
        for record in r0 + r1:
            check_record(record)
        seqs = [seq_of(r) for r in r0 + r1]
        whole = set(seqs)
        lost = MESSAGES - len(whole & set(range(MESSAGES)))
        duplicated = len(seqs) - len(whole)
        per_partition = {p["partition"]: p["high"] for p in offsets}
        print(f"produced {produced}, written {len(seqs)} (consumer-0 {len(r0)} over {consumers[0].runs} runs, "
              f"consumer-1 {len(r1)}), duplicated {duplicated}, lost {lost}, torn {torn0 + torn1}, in-flight bound "
              f"{MAX_IN_FLIGHT}; partition ends {per_partition}, committed at the end {[p['committed'] for p in after]}; "
              f"SIGTERM to exit {took[0]:.2f}s and {took[1]:.2f}s")
        if produced != MESSAGES or sum(per_partition.values()) != MESSAGES:
            raise SystemExit(f"FAIL: {MESSAGES} messages were to be produced once each")
        if lost:
            raise SystemExit(f"FAIL: {lost} lost, e.g. {sorted(set(range(MESSAGES)) - whole)[:10]}")
        # In flight when the disruptions came: the killed process's (at most
        # max_in_flight), and what a process whose partitions were revoked
        # could not commit (the mock cluster refuses commits once a rebalance
        # has begun; it logs how many, each at most max_in_flight).
        given_up = sum(int(n) for c in consumers for run in range(1, c.runs + 1)
                       for n in REREAD.findall(c.log_text(run)))
        bound = MAX_IN_FLIGHT + given_up
        print(f"duplicates allowed: {MAX_IN_FLIGHT} (the killed process) + {given_up} (revoked uncommitted) = {bound}")
        if duplicated > bound:
            raise SystemExit(f"FAIL: {duplicated} duplicates, more than the {bound} in flight")
        if any(p["committed"] != p["high"] for p in after):
            raise SystemExit(f"FAIL: committed offsets {after} are not the partitions' ends")
        if len(r1) == 0 or len(r0) == 0:
            raise SystemExit("FAIL: a consumer got no work")
        print("PASS")


def sink_errors(weir: str, mock: str) -> None:
    count, retries = 5, 2  # each retry of the timeout cases waits `timeout` (1 s)
    with MockCluster(mock, {}) as cluster, work_folder() as folder:
        # The mock cluster creates every topic asked for; this one it says does not exist.
        if cluster.ask("topic_error missing 3") != "ok":  # UNKNOWN_TOPIC_OR_PART
            raise SystemExit("FAIL: the mock cluster did not take the topic error")
        # name: (topic, stage config, generate's payload_size and rate, what each dead letter says)
        cases = {
            # Refused by librdkafka itself, at once: no retry can help, so none is made.
            "too-large": ("ids", "\n      librdkafka_options: {message.max.bytes: '1000'}", "2KiB", 0,
                          "Message size too large"),
            # Produced one by one, a message times out waiting for the topic; in a
            # batch, those after the first may learn at once that it is unknown.
            "missing": ("missing", "\n      timeout: 1s", "0", 0, ("Message timed out", "Unknown topic")),
            # Every broker goes down once the run has started.
            "down": ("ids", "\n      timeout: 1s", "0", 5, "Message timed out"),
        }
        figures = []
        for name, (topic, extra, size, rate, error_text) in cases.items():
            dead = os.path.join(folder, f"{name}-dead.jsonl")
            run = Weir(weir, folder, name, producer_yaml(
                cluster.bootstrap, topic, count, extra, size=size, rate=rate,
                on_error=f"on_error: {{retries: {retries}, backoff: 10ms, dead_letter: failed}}",
                dead_letter=f"""  failed:
    plugin: file
    config: {{path: '{dead}', format: json}}
"""))
            try:
                run.start()
                if name == "down":
                    wait_for("the producer running", lambda: "running" in run.log_text(), 30)
                    if cluster.ask("down") != "ok":
                        raise SystemExit("FAIL: the mock cluster did not go down")
                code = run.exit_code(120)
            finally:
                run.kill()
            report = run.read_report()
            if not report.get("balanced"):
                raise SystemExit(f"FAIL: {name}: the books do not balance: {json.dumps(report)[:2000]}")
            publish = report["stages"]["publish"]
            letters, _ = read_records(dead)
            figures.append(f"{name}: exit {code}, received {publish['received']}, emitted {publish['emitted']}, "
                           f"dead-lettered {publish['dead_lettered']}, retried {publish['retried']}, "
                           f"error {letters[0]['attributes'].get('error') if letters else None!r}")
            delivered = count if name != "down" else publish["emitted"]
            expected_dead = count - (delivered if name == "down" else 0)
            if (code != 0 or publish["received"] != count or publish["dead_lettered"] != expected_dead
                    or len(letters) != expected_dead or expected_dead == 0
                    or publish["emitted"] + publish["dead_lettered"] != count):
                raise SystemExit(f"FAIL: {name}: the undeliverable messages were to be dead-lettered: {figures[-1]}\n"
                                 f"{run.log_tail()}")
            if (publish["retried"] == 0) != (name == "too-large"):
                raise SystemExit(f"FAIL: {name}: retried {publish['retried']} times")
            texts = error_text if isinstance(error_text, tuple) else (error_text,)
            if not all(any(t in r["attributes"].get("error", "") for t in texts) for r in letters):
                errors = sorted({r["attributes"].get("error", "") for r in letters})
                raise SystemExit(f"FAIL: {name}: the dead letters do not say '{error_text}': {errors}")
        # Brokers that cannot be reached when the run starts: an error at start.
        unreachable = Weir(weir, folder, "unreachable",
                           producer_yaml("127.0.0.1:1", "ids", count, "\n      connect_timeout: 1s"))
        try:
            code = unreachable.start().exit_code(60)
        finally:
            unreachable.kill()
        figures.append(f"unreachable at start: exit {code}")
        if code != 2 or "cannot connect to the Kafka brokers 127.0.0.1:1" not in unreachable.log_text():
            raise SystemExit(f"FAIL: unreachable brokers at start: exit {code}\n{unreachable.log_tail()}")
        for line in figures:
            print(line)
        print("PASS")


def bound(weir: str, mock: str) -> None:
    """One consumer with max_in_flight 20 over 5,000 messages: fetching is
    paused and resumed hundreds of times, and every message is read once."""
    count, in_flight = 5000, 20
    with MockCluster(mock, {"ids": 2}) as cluster, work_folder() as folder:
        out = os.path.join(folder, "out.jsonl")
        producer = Weir(weir, folder, "producer", producer_yaml(cluster.bootstrap, "ids", count))
        consumer = Weir(weir, folder, "consumer", consumer_yaml(cluster.bootstrap, out).replace(
            f"max_in_flight: {MAX_IN_FLIGHT}", f"max_in_flight: {in_flight}"))
        try:
            if producer.start().exit_code(RUN_LIMIT_S) != 0:
                raise SystemExit(f"FAIL: the producer failed\n{producer.log_tail()}")
            consumer.start()
            wait_for("every message read", lambda: line_count(out) >= count, RUN_LIMIT_S, 0.2)
            wait_for("the group committed the end of every partition",
                     lambda: cluster.committed_to_end("shared", "ids"), 60, 0.5)
            stop_consumer(consumer)
        finally:
            for w in (producer, consumer):
                w.kill()
        check_books(consumer.read_report(), "consumer", "ids")
        records, torn = read_records(out)
        seqs = sorted(seq_of(r) for r in records)
        print(f"bound: {len(records)} read of {count} with max_in_flight {in_flight}, torn {torn}")
        if seqs != list(range(count)):
            raise SystemExit(f"FAIL: not every message once: {len(set(seqs))} distinct of {len(seqs)}")
        print("PASS")


def example(weir: str, mock: str) -> None:
    count = 1000
    with MockCluster(mock, {"orders": PARTITIONS}) as cluster, work_folder() as folder:
        os.symlink(os.path.join(REPO, "pipelines"), os.path.join(folder, "pipelines"))
        env = dict(os.environ, KAFKA_BROKERS=cluster.bootstrap)
        out = os.path.join(folder, "out", "kafka-orders.jsonl")
        producer = Weir(weir, folder, "producer", producer_yaml(cluster.bootstrap, "orders", count))
        report = os.path.join(folder, "example.report.json")
        log = open(os.path.join(folder, "example.log"), "w")
        process = subprocess.Popen([weir, "run", "pipelines/kafka-to-file.yaml", "--no-progress", "--report", report],
                                   cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            producer.start()
            if producer.exit_code(RUN_LIMIT_S) != 0:
                raise SystemExit(f"FAIL: the producer failed\n{producer.log_tail()}")
            wait_for("every order written", lambda: line_count(out) >= count, RUN_LIMIT_S, 0.2)
            wait_for("the group committed the end of the topic",
                     lambda: cluster.committed_to_end("weir-kafka-to-file", "orders"), 60, 0.5)
            started = time.monotonic()
            process.terminate()
            code = process.wait(timeout=DRAIN_TIMEOUT_S + 5)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            producer.kill()
            log.close()
        with open(report) as f:
            books = json.load(f)
        records, torn = read_records(out)
        print(f"kafka-to-file: {len(records)} written of {count}, exit {code} "
              f"{time.monotonic() - started:.2f}s after SIGTERM, balanced {books['balanced']}, "
              f"acked {books['stages']['orders'].get('acked')}")
        if code != 0 or not books["balanced"] or books["stages"]["orders"].get("pending_acks") != 0:
            with open(log.name) as f:
                raise SystemExit(f"FAIL: the example did not end well\n{f.read()[-3000:]}")
        if sorted(seq_of(r) for r in records) != list(range(count)) or torn:
            raise SystemExit("FAIL: the file does not hold every order once")
        print("PASS")


def main() -> int:
    weir, mock, mode = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    if not os.path.exists(weir):
        raise SystemExit(f"FAIL: no weir at {weir}")
    {"group": group, "bound": bound, "sink-errors": sink_errors, "example": example}[mode](weir, mock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
