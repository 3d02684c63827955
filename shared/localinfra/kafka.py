"""Apache Kafka as one local KRaft node (broker + controller), from Maven jars."""
from __future__ import annotations

import base64
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .cache import REPO_ROOT, cache_dir
from .process import Child, require_free, wait_for_port

KAFKA_VERSION = "3.9.1"
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"

LOG4J = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
"""


def jars_dir() -> Path:
    """Fetch Kafka's jars with Maven once; later calls return the cache."""
    target = cache_dir() / f"kafka-{KAFKA_VERSION}"
    marker = target / ".complete"
    if marker.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn", "-q", "-B", "-f", str(POM),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    marker.touch()
    return target


def server_properties(data_dir: Path, port: int, controller_port: int, partitions: int) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data_dir / 'logs'}
num.partitions={partitions}
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
"""


def new_cluster_id() -> str:
    """What Kafka's Uuid.randomUuid() gives: urlsafe base64 of 16 random bytes,
    never starting with '-' (it would be read as a command-line option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaNode:
    data_dir: Path
    port: int
    controller_port: int
    partitions: int = 6  # as in compose: up to six workers of a service share a topic
    heap: str = "512m"
    child: Child | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "KafkaNode":
        jars = jars_dir()
        require_free(self.port, "kafka")
        require_free(self.controller_port, "kafka controller")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(server_properties(self.data_dir, self.port, self.controller_port, self.partitions))
        log4j = self.data_dir / "log4j.properties"
        log4j.write_text(LOG4J)
        java = ["java", f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{jars}/*"]
        if not (self.data_dir / "logs" / "meta.properties").exists():
            cluster_id = new_cluster_id()
            subprocess.run(java + ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
                           check=True, stdout=subprocess.DEVNULL)
        self.child = Child.start("kafka", java + ["kafka.Kafka", str(props)], self.data_dir / "kafka.log")
        wait_for_port("127.0.0.1", self.port, self.child.proc, timeout, "kafka")
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.child.alive():
                raise RuntimeError(f"kafka exited:\n{self.child.tail()}")
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
                try:
                    admin.describe_cluster()
                    return
                finally:
                    admin.close()
            except Exception as exc:  # broker still starting
                last = exc
                time.sleep(0.5)
        raise TimeoutError(f"kafka not ready: {last}\n{self.child.tail()}")

    def stop(self) -> None:
        if self.child:
            self.child.stop(timeout=30)

    def kill(self) -> None:
        if self.child:
            self.child.kill()
