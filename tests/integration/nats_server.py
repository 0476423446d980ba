"""A real nats-server with JetStream for the integration tests.

Started on 127.0.0.1 with free ports (client and monitoring) and a temporary
store folder; every wait is bounded; `with NatsServer(...) as server:` kills
the server at the end whatever happens. restart() stops it and starts it
again on the same port with the same store, as an operator would.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port, wait_for  # noqa: E402,F401  (wait_for: also for the scripts that import it from here)

START_LIMIT_S = 15


class NatsServer:
    """One server; with `config` (the text of a nats-server configuration,
    whose ports the caller chose), started with -c instead of flags."""

    def __init__(self, binary: str = "nats-server", config: str = "", port: int = 0, monitor_port: int = 0,
                 folder: str = ""):
        self.binary = shutil.which(binary) or binary
        if not os.path.exists(self.binary):
            raise SystemExit(f"FAIL: {binary} is not installed (tools/test installs the Debian package nats-server)")
        self.folder = folder or tempfile.mkdtemp(prefix="weir-nats-")
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.config = config
        self.process = None
        self.starts = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
        return False

    def start(self):
        self.launch()
        wait_for("nats-server is ready", self._ready, START_LIMIT_S)

    def launch(self):
        self.starts += 1
        log = open(os.path.join(self.folder, f"server-{self.starts}.log"), "w")
        if self.config:
            config_file = os.path.join(self.folder, "server.conf")
            with open(config_file, "w") as f:
                f.write(self.config)
            arguments = ["-c", config_file]
        else:
            arguments = ["-js", "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port),
                         "-sd", os.path.join(self.folder, "store")]
        self.process = subprocess.Popen([self.binary] + arguments, stdout=log, stderr=subprocess.STDOUT)

    def _ready(self):
        if self.process.poll() is not None:
            raise SystemExit(f"FAIL: nats-server exited with {self.process.returncode}: {self.log_tail()}")
        try:
            if self.config:  # a cluster member: ready once the cluster has elected its JetStream leader
                return bool(self.jsz().get("meta_cluster", {}).get("leader"))
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true",
                                        timeout=1) as reply:
                return reply.status == 200
        except OSError:
            return False

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def restart(self, sig=signal.SIGKILL, down_s: float = 1.0):
        self.kill(sig)
        time.sleep(down_s)  # clients see the server gone and start reconnecting
        self.start()

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.folder, f"server-{self.starts}.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def jsz(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/jsz?consumers=true&config=true",
                                    timeout=2) as reply:
            return json.load(reply)

    def stream(self, name: str) -> dict:
        for account in self.jsz().get("account_details", []):
            for stream in account.get("stream_detail", []):
                if stream["name"] == name:
                    return stream
        return {}

    def consumer(self, stream: str, durable: str) -> dict:
        for consumer in self.stream(stream).get("consumer_detail", []) or []:
            if consumer["name"] == durable:
                return consumer
        return {}

    def delete_consumer(self, stream: str, durable: str) -> str:
        """Deletes a consumer as an operator would (the JetStream API, over the
        client protocol: no NATS client library is needed); returns the reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.recv(4096)  # INFO
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.weir-test 1\r\n' +
                      f"PUB $JS.API.CONSUMER.DELETE.{stream}.{durable} _INBOX.weir-test 0\r\n\r\n".encode())
            reply = b""
            deadline = time.monotonic() + 5
            while b"consumer_delete_response" not in reply or not reply.endswith(b"\r\n"):
                if time.monotonic() > deadline:
                    raise SystemExit(f"FAIL: no answer to deleting consumer {durable}: {reply[:300]!r}")
                reply += s.recv(4096)
        return reply.decode(errors="replace")

    def settled(self, stream: str, durable: str, messages: int):
        """The stream holds `messages` and the consumer has nothing pending or unacknowledged."""
        try:
            s = self.stream(stream)
            c = self.consumer(stream, durable)
        except OSError:
            return None
        if not s or not c:
            return None
        if s["state"]["messages"] < messages or c["num_pending"] != 0 or c["num_ack_pending"] != 0:
            return None
        return c


class NatsCluster:
    """Servers started from configuration files such as pipelines/nats/n1.conf,
    moved to 127.0.0.1 and free ports: `nN` names the N-th server, 4222, 6222
    and 8222 its client, route and monitoring ports, /var/lib/nats its store."""

    def __init__(self, config_files: list[str]):
        self.folder = tempfile.mkdtemp(prefix="weir-nats-cluster-")
        names = [os.path.splitext(os.path.basename(f))[0] for f in config_files]
        ports = {name: (free_port(), free_port(), free_port()) for name in names}  # client, route, monitor
        self.servers = []
        for name, config_file in zip(names, config_files):
            with open(config_file) as f:
                text = f.read()
            client, route, monitor = ports[name]
            text = text.replace("0.0.0.0:4222", f"127.0.0.1:{client}").replace("0.0.0.0:8222", f"127.0.0.1:{monitor}")
            text = text.replace("0.0.0.0:6222", f"127.0.0.1:{route}").replace("/var/lib/nats", self.folder + "/store")
            for other in names:
                text = text.replace(f"nats-route://{other}:6222", f"nats-route://127.0.0.1:{ports[other][1]}")
            folder = os.path.join(self.folder, name)
            os.makedirs(folder)
            server = NatsServer(config=text, port=client, monitor_port=monitor, folder=folder)
            server.name = name
            self.servers.append(server)
        self.names = names

    def urls(self, text: str) -> str:
        """`text` with every nats://nN:4222 pointing at the running servers."""
        for name, server in zip(self.names, self.servers):
            text = text.replace(f"nats://{name}:4222", server.url)
        return text

    def settled(self, stream: str, durable: str, messages: int):
        """As NatsServer.settled, asked of the consumer's leader: followers
        report a consumer's pending counts late."""
        for server in self.servers:
            if not server.process or server.process.poll() is not None:
                continue
            consumer = server.settled(stream, durable, messages)
            if consumer and consumer.get("cluster", {}).get("leader") == server.name:
                return consumer
        return None

    def __enter__(self):
        for server in self.servers:  # all at once: each waits for the others to elect a leader
            server.launch()
        for server in self.servers:
            wait_for("the cluster elected a JetStream leader", server._ready, 30)
        return self

    def __exit__(self, *exc):
        for server in self.servers:
            server.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
        return False
