#!/usr/bin/env python3
"""At-least-once across processes and a broker: the nats source and sink.

usage: nats_jetstream.py WEIR competing|poison|unstored|restart|cluster

Each mode starts its own nats-server (-js, 127.0.0.1, free ports, a temporary
store; killed at the end whatever happens) and drives weir as subprocesses:

competing  Two weir processes read one stream as the same durable consumer,
           each writing what it gets to its own file; a third weir publishes
           20,000 unique ids with the nats sink. When the first consumer has
           written a quarter, it is killed with kill -9 and started again.
           In the end every id is in the union of the files, duplicates are
           at most the in-flight bound (max_ack_pending of the killed process),
           the consumer has nothing pending or unacknowledged, and SIGTERM
           ends both consumers with exit 0 within drain_timeout.
poison     One message that a stage always fails: delivered max_deliver
           times, then published to the dead-letter subject and terminated;
           the others flow. A second consumer reads the dead letter back.
unstored   The sink publishes to a subject no stream stores: JetStream
           refuses every publish, and each follows the stage's on_error
           (retried, then dead-lettered with the reason).
cluster    The worked example of docs/delivery.md as it stands in
           pipelines/nats/: three nats-servers from n1.conf … n3.conf (moved to
           127.0.0.1 and free ports), three weir processes running orders.yaml,
           3,000 orders from publish-orders.yaml (paced at 1,000 a second,
           so that the kill lands mid-run); one server is killed (kill -9)
           mid-run. Every order is archived, none lost, SIGTERM ends all three.
restart    The nats-server is killed (kill -9) and started again (same port,
           same store) in the middle of a run: the source and the sink
           reconnect, nothing is lost, the books of both runs balance.

Prints the figures. Every wait is bounded.
"""
import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Weir, wait_for, work_folder  # noqa: E402
from nats_server import NatsCluster, NatsServer  # noqa: E402

IDS = 20_000
MAX_ACK_PENDING = 256
DRAIN_TIMEOUT_S = 10
STOP_GRACE_S = 5  # weir's documented grace after drain_timeout
RUN_LIMIT_S = 120
ID_LINE = re.compile(r"^id-(\d+)$")


def consumer_yaml(server: NatsServer, out: str, stream: str, durable: str, extra: str = "") -> str:
    return f"""
pipeline: {durable}-consumer
defaults: {{capacity: 256, drain_timeout: {DRAIN_TIMEOUT_S}s}}
stages:
  ids:
    plugin: nats
    config:
      servers: ['{server.url}']
      stream: {stream}
      subject: '{stream.lower()}.>'
      durable: {durable}
      create_stream: true
      ack_wait: 3s
      batch: 64
      max_ack_pending: {MAX_ACK_PENDING}
      fetch_wait: 200ms
      reconnect_wait: 250ms{extra}
  out:
    plugin: file
    input: ids
    config: {{path: '{out}'}}
"""


def reader_yaml(servers: str, stream: str, subject: str, durable: str, out: str) -> str:
    """A pipeline that reads `subject` of `stream` through its own durable
    consumer into `out`, one JSON line a message (headers as attributes)."""
    return f"""
pipeline: {durable}
stages:
  read:
    plugin: nats
    config: {{servers: {servers}, stream: {stream}, subject: {subject}, durable: {durable}, fetch_wait: 200ms}}
  out:
    plugin: file
    input: read
    config: {{path: '{out}', format: json}}
"""


def publisher_yaml(server: NatsServer, stream: str, count: int, rate: int = 0) -> str:
    return f"""
pipeline: publisher
defaults: {{drain_timeout: 60s}}
stages:
  ids:
    plugin: generate
    # Attributes that cannot be headers as they are: a line break, a name with ':' and a space.
    config: {{count: {count}, rate: {rate}, payload: 'id-{{seq}}',
              attributes: {{shard: 's{{seq}}', note: "two\\nlines", 'not: a header': x}}}}
  publish:
    plugin: nats
    input: ids
    replicas: 4
    on_error: {{retries: 60, backoff: 100ms, max_backoff: 1s}}
    config:
      servers: ['{server.url}']
      subject: '{stream.lower()}.new'
      msg_id: '{{payload}}'
      timeout: 2s
      reconnect_wait: 250ms
"""


def read_ids(path: str) -> tuple[list[int], int]:
    """The ids in a file, and the lines that are not ids (torn by kill -9)."""
    ids, torn = [], 0
    if not os.path.exists(path):
        return ids, torn
    with open(path) as f:
        for line in f:
            m = ID_LINE.match(line.rstrip("\n"))
            if m and line.endswith("\n"):
                ids.append(int(m.group(1)))
            else:
                torn += 1
    return ids, torn


def line_count(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def check_books(report: dict, who: str, source: str):
    if not report.get("balanced", False):
        raise SystemExit(f"FAIL: {who}: the books do not balance: {json.dumps(report)[:2000]}")
    stage = report["stages"][source]
    if stage.get("pending_acks", 0) != 0:
        raise SystemExit(f"FAIL: {who}: {stage['pending_acks']} acknowledgements still pending")


def written_twice(path: str, poisoned: int) -> str:
    """What a failed wait says of the ids written: any written more than once,
    and whether the poisoned one is among them (it never should be)."""
    ids, torn = read_ids(path)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    return (f"written more than once: {twice[:10]}; the poisoned id {poisoned} "
            f"{'written' if poisoned in ids else 'not written'}; torn lines: {torn}")


def start_then_publish(worker: Weir, publisher: Weir, server: NatsServer, stream: str, durable: str) -> None:
    """Starts `worker`, waits until its stream and durable consumer exist,
    then runs `publisher` to its end."""
    worker.start()
    wait_for("the stream and the durable consumer exist", lambda: server.consumer(stream, durable), 30)
    publisher.start()
    if publisher.exit_code(RUN_LIMIT_S) != 0:
        raise SystemExit(f"FAIL: the publisher failed\n{publisher.log_tail()}")


def stop_consumer(consumer: Weir) -> float:
    code = consumer.terminate(DRAIN_TIMEOUT_S + STOP_GRACE_S)
    if code != 0:
        raise SystemExit(f"FAIL: {consumer.name} exited {code} on SIGTERM\n{consumer.log_tail()}")
    return consumer.stopped_in


def competing(weir: str) -> None:
    with NatsServer() as server, work_folder() as folder:
        outs = [os.path.join(folder, f"out-{i}.txt") for i in (0, 1)]
        consumers = [Weir(weir, folder, f"consumer-{i}", consumer_yaml(server, outs[i], "IDS", "shared")) for i in (0, 1)]
        publisher = Weir(weir, folder, "publisher", publisher_yaml(server, "IDS", IDS))
        try:
            for c in consumers:
                c.start()
            wait_for("the stream and the durable consumer exist", lambda: server.consumer("IDS", "shared"), 30)
            publisher.start()
            wait_for("consumer-0 wrote a quarter of the ids", lambda: line_count(outs[0]) >= IDS // 4, RUN_LIMIT_S)
            consumers[0].kill()
            at_kill = line_count(outs[0])
            print(f"kill -9 of consumer-0 after it wrote {at_kill} lines; started again")
            consumers[0].start()
            code = publisher.exit_code(RUN_LIMIT_S)
            if code != 0:
                raise SystemExit(f"FAIL: the publisher exited {code}\n{publisher.log_tail()}")
            pub = publisher.read_report()
            check_books(pub, "publisher", "ids")
            published = pub["stages"]["publish"]["emitted"]
            final = wait_for("every id written and the consumer settled",
                             lambda: len(set(read_ids(outs[0])[0]) | set(read_ids(outs[1])[0])) >= IDS and
                             server.settled("IDS", "shared", IDS), RUN_LIMIT_S, 0.2)
            stream_messages = server.stream("IDS")["state"]["messages"]
            took = [stop_consumer(c) for c in consumers]
            for c in consumers:
                check_books(c.read_report(), c.name, "ids")
        finally:
            for w in consumers + [publisher]:
                w.kill()
        (ids0, torn0), (ids1, torn1) = read_ids(outs[0]), read_ids(outs[1])
        union = set(ids0) | set(ids1)
        written = len(ids0) + len(ids1)
        lost = IDS - len(union & set(range(IDS)))
        duplicated = written - len(union)
        print(f"published {published} (stream holds {stream_messages}), written {written} "
              f"(consumer-0 {len(ids0)}, consumer-1 {len(ids1)}), duplicated {duplicated}, lost {lost}, "
              f"torn {torn0 + torn1}, in-flight bound {MAX_ACK_PENDING}; consumer num_pending "
              f"{final['num_pending']}, num_ack_pending {final['num_ack_pending']}; SIGTERM to exit "
              f"{took[0]:.2f}s and {took[1]:.2f}s (drain_timeout {DRAIN_TIMEOUT_S}s)")
        if published != IDS or stream_messages != IDS:
            raise SystemExit(f"FAIL: {IDS} ids were to be published once each")
        if lost:
            raise SystemExit(f"FAIL: {lost} ids lost, e.g. {sorted(set(range(IDS)) - union)[:10]}")
        if duplicated > MAX_ACK_PENDING:
            raise SystemExit(f"FAIL: {duplicated} duplicates, more than the {MAX_ACK_PENDING} in flight")
        print("PASS")


def poison(weir: str) -> None:
    count, poisoned, max_deliver = 200, 57, 3
    with NatsServer() as server, work_folder() as folder:
        out = os.path.join(folder, "out.txt")
        dead = os.path.join(folder, "dead.jsonl")
        # At debug level: each redelivery and each nak or term is logged, so a
        # failure shows which deliveries reached weir and what it answered.
        worker = Weir(weir, folder, "worker", log_level="debug", yaml=f"""
pipeline: poison
defaults: {{drain_timeout: {DRAIN_TIMEOUT_S}s}}
stages:
  ids:
    plugin: nats
    config:
      servers: ['{server.url}']
      stream: JOBS
      stream_subjects: ['jobs.>']
      subject: jobs.new
      durable: worker
      create_stream: true
      max_deliver: {max_deliver}
      nak_delay: 100ms
      fetch_wait: 200ms
      dead_letter_subject: jobs.dead
  reject:
    plugin: fail
    input: ids
    when: 'payload == "id-{poisoned}"'
    config: {{share: 1.0, error: permanent}}
  out:
    plugin: file
    input: ids.unmatched
    config: {{path: '{out}'}}
""")
        reader = Weir(weir, folder, "dead-reader",
                      reader_yaml(f"['{server.url}']", "JOBS", "jobs.dead", "dead-reader", dead))
        publisher = Weir(weir, folder, "publisher", publisher_yaml(server, "JOBS", count))
        try:
            start_then_publish(worker, publisher, server, "JOBS", "worker")
            wait_for("the others written, the poison settled",
                     lambda: line_count(out) >= count - 1 and server.settled("JOBS", "worker", count + 1), 60, 0.1,
                     context=lambda: f"{line_count(out)} of {count - 1} written; {written_twice(out, poisoned)}; "
                                     f"stream: {server.stream('JOBS').get('state')}; consumer: "
                                     f"{server.consumer('JOBS', 'worker')}")
            reader.start()
            wait_for("the dead letter read back", lambda: line_count(dead) >= 1, 30)
            stop_consumer(worker)
            stop_consumer(reader)
        finally:
            for w in (worker, reader, publisher):
                w.kill()
        ids, _ = read_ids(out)
        with open(dead) as f:
            letters = [json.loads(line) for line in f]
        report = worker.read_report()
        check_books(report, "worker", "ids")
        source, reject = report["stages"]["ids"], report["stages"]["reject"]
        letter = letters[0]
        attributes = letter.get("attributes", {})
        print(f"published {count}, written {len(ids)} (unique {len(set(ids))}), poison delivered "
              f"{reject['received']} times (max_deliver {max_deliver}), dead letters {len(letters)}: payload "
              f"{letter.get('payload')!r} attempts {attributes.get('attempts')} source {attributes.get('source')} "
              f"error {attributes.get('error')!r}; source acked {source['acked']}, nacked {source['nacked']}")
        if sorted(set(ids)) != [n for n in range(count) if n != poisoned]:
            raise SystemExit("FAIL: the other messages did not all flow")
        if reject["received"] != max_deliver or reject["failed"] != max_deliver:
            raise SystemExit(f"FAIL: the poison was to be delivered {max_deliver} times")
        if len(letters) != 1 or letter.get("payload") != f"id-{poisoned}" or \
                attributes.get("attempts") != str(max_deliver) or attributes.get("source") != "ids":
            raise SystemExit(f"FAIL: dead letters: {letters}")
        if source["nacked"] != max_deliver:
            raise SystemExit(f"FAIL: nacked {source['nacked']}, expected {max_deliver}")
        print("PASS")


def unstored(weir: str) -> None:
    """A publish that JetStream refuses (no stream stores the subject) follows
    the sink stage's on_error: retried, then dead-lettered with the reason."""
    count, retries = 10, 2
    with NatsServer() as server, work_folder() as folder:
        dead = os.path.join(folder, "dead.jsonl")
        publisher = Weir(weir, folder, "publisher", f"""
pipeline: unstored
stages:
  ids:
    plugin: generate
    config: {{count: {count}, payload: 'id-{{seq}}'}}
  publish:
    plugin: nats
    input: ids
    on_error: {{retries: {retries}, backoff: 10ms, dead_letter: dead}}
    config: {{servers: ['{server.url}'], subject: nowhere.stored, timeout: 2s}}
  dead:
    plugin: file
    config: {{path: '{dead}', format: json}}
""")
        try:
            publisher.start()
            code = publisher.exit_code(RUN_LIMIT_S)
        finally:
            publisher.kill()
        report = publisher.read_report()
        check_books(report, "publisher", "ids")
        publish = report["stages"]["publish"]
        with open(dead) as f:
            letters = [json.loads(line) for line in f]
        errors = {letter["attributes"].get("error", "") for letter in letters}
        print(f"exit {code}; sink received {publish['received']}, dead-lettered {publish['dead_lettered']}, retried "
              f"{publish['retried']}, emitted {publish['emitted']}; dead letters {len(letters)}, errors {sorted(errors)}")
        if code != 0 or publish["dead_lettered"] != count or publish["emitted"] != 0 or len(letters) != count:
            raise SystemExit("FAIL: every refused publish was to be dead-lettered")
        if publish["retried"] != count * retries:
            raise SystemExit(f"FAIL: each publish was to be retried {retries} times")
        if not all(letter["attributes"].get("attempts") == str(retries + 1) for letter in letters) or \
                not all("publishing to JetStream failed" in e for e in errors):
            raise SystemExit("FAIL: the dead letters do not say why")
        print("PASS")


def restart(weir: str) -> None:
    with NatsServer() as server, work_folder() as folder:
        out = os.path.join(folder, "out.txt")
        consumer = Weir(weir, folder, "consumer", consumer_yaml(server, out, "EVENTS", "events"))
        publisher = Weir(weir, folder, "publisher", publisher_yaml(server, "EVENTS", IDS, rate=1000))
        try:
            consumer.start()
            wait_for("the stream and the durable consumer exist", lambda: server.consumer("EVENTS", "events"), 30)
            publisher.start()
            wait_for("the consumer wrote a quarter", lambda: line_count(out) >= IDS // 4, RUN_LIMIT_S)
            before = line_count(out)
            server.restart(signal.SIGKILL, down_s=2.0)
            print(f"nats-server killed (kill -9) and started again after the consumer wrote {before} lines")
            if publisher.exit_code(RUN_LIMIT_S) != 0:
                raise SystemExit(f"FAIL: the publisher failed\n{publisher.log_tail()}")
            wait_for("every id written and the consumer settled",
                     lambda: len(set(read_ids(out)[0])) >= IDS and server.settled("EVENTS", "events", IDS),
                     RUN_LIMIT_S, 0.2)
            took = stop_consumer(consumer)
        finally:
            for w in (consumer, publisher):
                w.kill()
        pub, con = publisher.read_report(), consumer.read_report()
        check_books(pub, "publisher", "ids")
        check_books(con, "consumer", "ids")
        ids, torn = read_ids(out)
        lost = IDS - len(set(ids))
        reconnected = "reconnected to NATS" in consumer.log_text()
        publish = pub["stages"]["publish"]
        print(f"published {publish['emitted']} (retried {publish['retried']}, failed {publish['failed']}), "
              f"stream holds {server.stream('EVENTS')['state']['messages']}, written {len(ids)}, duplicated "
              f"{len(ids) - len(set(ids))}, lost {lost}; consumer acked {con['stages']['ids']['acked']}, nacked "
              f"{con['stages']['ids']['nacked']}; reconnection logged: {reconnected}; SIGTERM to exit {took:.2f}s")
        if lost or publish["failed"] or publish["emitted"] != IDS:
            raise SystemExit("FAIL: messages lost across the server restart")
        if not reconnected:
            raise SystemExit(f"FAIL: the source did not log its reconnection\n{consumer.log_tail()}")
        print("PASS")


def order_of(line: str):
    """The order number a line of an archive holds; None for a line being written."""
    try:
        return json.loads(json.loads(line)["payload"])["order"]
    except (ValueError, KeyError, TypeError):
        return None


def archived_orders(path: str) -> list[int]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [order for order in map(order_of, f) if order is not None]


def missing_orders(archives: list[str], total: int) -> str:
    missing = sorted(set(range(total)) - set().union(*(archived_orders(a) for a in archives)))
    return ", ".join(map(str, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")


def unreadable_lines(path: str) -> str:
    """What a failed wait says of one archive: its lines, and any that is not an order."""
    if not os.path.exists(path):
        return f"{os.path.basename(path)}: none"
    with open(path) as f:
        lines = f.readlines()
    bad = [line for line in lines if order_of(line) is None]
    return (f"{os.path.basename(path)}: {len(lines)} lines" +
            (f", {len(bad)} not an order: {[line[:200] for line in bad[:3]]}" if bad else ""))


def audit_stream(weir: str, folder: str, nats, total: int) -> str:
    """Reads the whole ORDERS stream through a durable of its own and says
    which orders it holds, and how many times."""
    audit = os.path.join(folder, "audit.jsonl")
    reader = Weir(weir, folder, "audit",
                  reader_yaml(nats.urls("[nats://n1:4222, nats://n3:4222]"), "ORDERS", "orders.new", "audit", audit))
    try:
        reader.start()
        try:
            wait_for("the stream read back", lambda: len(archived_orders(audit)) >= total, 30, 0.2)
        except SystemExit:
            pass
        seen = archived_orders(audit)
    finally:
        reader.kill()
    counts = {order: seen.count(order) for order in set(seen)}
    absent = sorted(set(range(total)) - set(counts))
    twice = sorted(order for order, n in counts.items() if n > 1)
    return (f"the stream, read back: {len(seen)} messages, {len(counts)} orders; absent: {absent[:10]}; "
            f"more than once: {twice[:10]}")


def cluster(weir: str) -> None:
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pipelines", "nats")
    configs = [os.path.join(examples, f"n{i}.conf") for i in (1, 2, 3)]
    with NatsCluster(configs) as nats, work_folder() as folder:
        def example(name: str) -> str:
            with open(os.path.join(examples, name)) as f:
                return nats.urls(f.read())
        orders = example("orders.yaml")
        if "nats://n" in orders:
            raise SystemExit("FAIL: orders.yaml names a server the test does not run")
        archives = [os.path.join(folder, f"orders-{i}.jsonl") for i in (1, 2, 3)]
        # Published at 1,000 a second (the example publishes as fast as it
        # can): on a fast machine all 3,000 were archived, by the first
        # process alone, before the kill could land mid-run.
        publish = example("publish-orders.yaml")
        total = int(re.search(r"count: (\d+)", publish).group(1))
        paced = publish.replace(f"count: {total},", f"count: {total}, rate: 1000,")
        if paced == publish:
            raise SystemExit("FAIL: publish-orders.yaml has no 'count: N,' for the test to pace")
        publisher = Weir(weir, folder, "publish-orders", paced)
        processes = []
        try:
            for i in (1, 2, 3):
                w = Weir(weir, folder, f"orders-{i}", orders.replace("/var/lib/weir/orders.jsonl", archives[i - 1]))
                processes.append(w.start())
                if i == 1:
                    wait_for("the stream and the consumer exist",
                             lambda: nats.servers[0].consumer("ORDERS", "weir-orders"), 30)
            publisher.start()
            wait_for("a third of the orders archived",
                     lambda: sum(len(archived_orders(a)) for a in archives) >= total // 3, RUN_LIMIT_S)
            nats.servers[1].kill()
            print(f"nats-server n2 killed (kill -9) after "
                  f"{sum(len(archived_orders(a)) for a in archives)} orders were archived")
            if publisher.exit_code(RUN_LIMIT_S) != 0:
                raise SystemExit(f"FAIL: the publisher failed\n{publisher.log_tail()}")
            try:
                wait_for("every order archived and the consumer settled",
                         lambda: len(set().union(*(archived_orders(a) for a in archives))) >= total and
                         nats.settled("ORDERS", "weir-orders", total), RUN_LIMIT_S, 0.2,
                         context=lambda: f"{len(set().union(*(archived_orders(a) for a in archives)))} of {total} "
                                         f"archived; missing: {missing_orders(archives, total)}; "
                                         f"{'; '.join(unreadable_lines(a) for a in archives)}; "
                                         f"the consumer as each live server sees it: "
                                         f"{[s.consumer('ORDERS', 'weir-orders') for s in nats.servers if s.process and s.process.poll() is None]}")
            except SystemExit as failure:
                # Whether the stream holds what no archive has tells a loss
                # in weir from one in publishing (or in the cluster).
                raise SystemExit(f"{failure}\n{audit_stream(weir, folder, nats, total)}") from None
            took = [stop_consumer(w) for w in processes]
        finally:
            for w in processes + [publisher]:
                w.kill()
        for w in processes:
            check_books(w.read_report(), w.name, "orders")
        check_books(publisher.read_report(), "publisher", "orders")
        per_process = [len(archived_orders(a)) for a in archives]
        union = set().union(*(archived_orders(a) for a in archives))
        lost = total - len(union)
        print(f"published {total}, archived {sum(per_process)} (per process {per_process}), duplicated "
              f"{sum(per_process) - len(union)}, lost {lost}; SIGTERM to exit "
              f"{', '.join(f'{t:.2f}s' for t in took)}")
        if lost:
            raise SystemExit(f"FAIL: {lost} orders lost")
        if min(per_process) == 0:
            raise SystemExit("FAIL: a process got no work")
        print("PASS")


def deleted(weir: str) -> None:
    """A durable consumer deleted on the server while weir reads through it:
    the stage fails at once, saying so, instead of waiting on requests that
    nobody answers any more; what it had delivered is written."""
    count = 50
    with NatsServer() as server, work_folder() as folder:
        out = os.path.join(folder, "out.txt")
        consumer = Weir(weir, folder, "consumer", consumer_yaml(server, out, "GONE", "gone"))
        publisher = Weir(weir, folder, "publisher", publisher_yaml(server, "GONE", count))
        try:
            start_then_publish(consumer, publisher, server, "GONE", "gone")
            wait_for("every message written", lambda: line_count(out) >= count, 60, 0.1)
            reply = server.delete_consumer("GONE", "gone")
            if '"success":true' not in reply:
                raise SystemExit(f"FAIL: the server did not delete the consumer: {reply[:300]}")
            code = consumer.exit_code(30, ", after its consumer was deleted")
        finally:
            for w in (consumer, publisher):
                w.kill()
        log = consumer.log_tail()
        if code != 1 or "consumer 'gone' of stream 'GONE' was deleted on the server" not in log:
            raise SystemExit(f"FAIL: weir exited {code}; expected 1 and the stage's error\n{log}")
        report = consumer.read_report()
        if report["status"] != "failed" or not report.get("balanced", False):
            raise SystemExit(f"FAIL: the report: {json.dumps(report)[:1500]}")
        written = report["stages"]["out"]["emitted"]
        print(f"published {count}, written {line_count(out)} (report: {written}); weir exited {code} "
              f"once the consumer was deleted")
        if line_count(out) != count or written != count:
            raise SystemExit("FAIL: not every message was written once")
        print("PASS")


def main() -> int:
    weir, mode = sys.argv[1], sys.argv[2]
    {"competing": competing, "poison": poison, "unstored": unstored, "restart": restart, "deleted": deleted,
     "cluster": cluster}[mode](weir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
