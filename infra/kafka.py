"""Single-node Apache Kafka (KRaft, broker+controller) without the distribution tarball.

The jars come from Maven Central (``infra/kafka_pom.xml``, ``mvn dependency:copy-dependencies``)
into ``.local/kafka/lib``; the broker runs as ``java -cp 'lib/*' kafka.Kafka server.properties``,
detached, with its data in ``.local/kafka/data`` and its log in ``.local/kafka/logs/server.log``.

Environment: ``FEEDBACK_KAFKA_PORT`` (9092), ``FEEDBACK_KAFKA_CONTROLLER_PORT`` (9093),
``FEEDBACK_INTAKE_PARTITIONS`` (6), ``FEEDBACK_KAFKA_HEAP_OPTS`` ("-Xmx512m -Xms256m"),
``FEEDBACK_LOCAL_DIR`` (``<project>/.local``), ``JAVA_HOME``.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from infra import (
    InfraError,
    file_lock,
    local_dir,
    pid_alive,
    port_open,
    project_root,
    tail,
    wait_pid_exit,
)

KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.25.4"  # the log4j2 that kafka-server 4.3.1 depends on; binds slf4j 1.7 to it
HOST = "127.0.0.1"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
DEFAULT_HEAP_OPTS = "-Xmx512m -Xms256m"
POM = Path(__file__).resolve().parent / "kafka_pom.xml"

INTAKE_TOPIC = "feedback.intake.v1"
INTAKE_DLQ_TOPIC = "feedback.intake.dlq.v1"
CASE_EVENTS_TOPIC = "feedback.case-events.v1"

__all__ = [
    "KAFKA_VERSION",
    "bootstrap",
    "create_topics",
    "default_topics",
    "ensure_running",
    "fetch",
    "is_running",
    "start",
    "status",
    "stop",
]


# --- configuration and paths -------------------------------------------------------------


def port() -> int:
    """Client (PLAINTEXT) port."""
    return int(os.environ.get("FEEDBACK_KAFKA_PORT", "9092"))


def controller_port() -> int:
    """KRaft controller port."""
    return int(os.environ.get("FEEDBACK_KAFKA_CONTROLLER_PORT", "9093"))


def bootstrap() -> str:
    """Bootstrap address for clients, e.g. ``127.0.0.1:9092``."""
    return f"{HOST}:{port()}"


def default_topics() -> dict[str, int]:
    """The platform's topics and their partition counts."""
    return {
        INTAKE_TOPIC: int(os.environ.get("FEEDBACK_INTAKE_PARTITIONS", "6")),
        INTAKE_DLQ_TOPIC: 1,
        CASE_EVENTS_TOPIC: 3,
    }


def home() -> Path:
    """``.local/kafka``."""
    path = local_dir() / "kafka"
    path.mkdir(parents=True, exist_ok=True)
    return path


def lib_dir() -> Path:
    """Directory holding the broker's classpath."""
    return home() / "lib"


def data_dir() -> Path:
    """``log.dirs`` (topic data and KRaft metadata log)."""
    return home() / "data"


def pid_file() -> Path:
    """Pid of the detached broker."""
    return home() / "kafka.pid"


def console_log() -> Path:
    """The JVM's stdout/stderr."""
    return home() / "kafka.log"


def server_log() -> Path:
    """The broker's log4j2 log."""
    return home() / "logs" / "server.log"


def properties_file() -> Path:
    """The generated server.properties."""
    return home() / "server.properties"


def _marker() -> Path:
    return lib_dir() / ".fetched"


# --- fetch --------------------------------------------------------------------------------


def is_fetched() -> bool:
    """True if ``lib/`` holds the jars of the pinned version."""
    marker = _marker()
    return (
        marker.is_file()
        and marker.read_text().strip() == f"{KAFKA_VERSION} log4j {LOG4J_VERSION}"
        and (lib_dir() / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file()
    )


def fetch(force: bool = False) -> Path:
    """Download the broker's jars with Maven into ``.local/kafka/lib`` (skipped if present)."""
    target = lib_dir()
    if is_fetched() and not force:
        print(f"kafka {KAFKA_VERSION}: jars already in {target}")
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError("Maven (mvn) not found on PATH; it is needed to fetch the Kafka jars")
    staging = target.with_name("lib.partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        f"-Dkafka.version={KAFKA_VERSION}", f"-Dlog4j.version={LOG4J_VERSION}",
    ]  # fmt: skip
    print(f"kafka {KAFKA_VERSION}: fetching jars with Maven into {target} ...")
    result = subprocess.run(command, capture_output=True, text=True, cwd=project_root())
    if result.returncode != 0:
        output = result.stdout[-4000:] + result.stderr[-4000:]
        raise InfraError(f"mvn failed ({result.returncode}):\n{output}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _marker().write_text(f"{KAFKA_VERSION} log4j {LOG4J_VERSION}\n")
    print(f"kafka {KAFKA_VERSION}: {len(list(target.glob('*.jar')))} jars in {target}")
    return target


# --- configuration files ------------------------------------------------------------------


def _server_properties() -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port()}",
        "listeners": f"PLAINTEXT://{HOST}:{port()},CONTROLLER://{HOST}:{controller_port()}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port()}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir()),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "min.insync.replicas": "1",
        "default.replication.factor": "1",
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
    }
    lines = ["# Generated by infra/kafka.py; rewritten on every start."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _log4j2_properties() -> str:
    log = server_log()
    return f"""# Generated by infra/kafka.py: all broker logging to one size-rolled file.
status = warn
# Kafka logs its own shutdown from a JVM hook: keep log4j alive until the JVM exits.
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.filePattern = {log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def write_config() -> Path:
    """Write server.properties and log4j2.properties into ``.local/kafka``."""
    server_log().parent.mkdir(parents=True, exist_ok=True)
    (home() / "log4j2.properties").write_text(_log4j2_properties())
    properties_file().write_text(_server_properties())
    return properties_file()


# --- java ---------------------------------------------------------------------------------


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise InfraError("java not found (install a JDK 17+ or set JAVA_HOME)")
    return java


def _java_command(main_class: str, *args: str) -> list[str]:
    heap = os.environ.get("FEEDBACK_KAFKA_HEAP_OPTS", DEFAULT_HEAP_OPTS).split()
    return [
        _java(), *heap, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={home() / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={server_log().parent}",
        "-cp", f"{lib_dir()}/*", main_class, *args,
    ]  # fmt: skip


def _cluster_id() -> str:
    """A random Kafka cluster id (URL-safe base64 of a UUID, no padding, not starting with '-')."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def is_formatted() -> bool:
    """True if the storage directory has been formatted."""
    return (data_dir() / "meta.properties").is_file()


def format_storage() -> None:
    """Format ``log.dirs`` with ``kafka.tools.StorageTool`` (static quorum, new cluster id)."""
    command = _java_command(
        "kafka.tools.StorageTool", "format", "--ignore-formatted",
        "-t", _cluster_id(), "-c", str(properties_file()),
    )  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout[-3000:] + result.stderr[-3000:]
        raise InfraError(f"kafka storage format failed:\n{output}")


# --- process ------------------------------------------------------------------------------


def _is_our_broker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in cmdline and str(properties_file()).encode() in cmdline


def running_pid() -> int | None:
    """Pid of our broker (from the pid file, checked against /proc), or None."""
    try:
        pid = int(pid_file().read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and _is_our_broker(pid) else None


def broker_answers(bootstrap_servers: str | None = None, timeout_s: float = 5.0) -> bool:
    """True if a Kafka broker at ``bootstrap_servers`` answers a metadata request."""
    servers = bootstrap_servers or bootstrap()
    host, _, port_text = servers.split(",")[0].rpartition(":")
    if not port_open(host, int(port_text)):
        return False
    from kafka import KafkaAdminClient  # kafka-python

    quiet = logging.getLogger("kafka")
    previous = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        timeout_ms = int(timeout_s * 1000)
        admin = KafkaAdminClient(
            bootstrap_servers=servers, client_id="infra-ready-check",
            request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms,
        )  # fmt: skip
        try:
            return bool(admin.describe_cluster().get("brokers"))
        finally:
            admin.close()
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
    finally:
        quiet.setLevel(previous)


def is_running() -> bool:
    """True if a broker answers on the configured port."""
    return broker_answers(bootstrap(), timeout_s=3.0)


def _launch() -> subprocess.Popen[bytes]:
    """Start the broker detached (own session); stdout/stderr to kafka.log."""
    with console_log().open("ab") as out:
        process = subprocess.Popen(
            _java_command("kafka.Kafka", str(properties_file())),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=home(),
        )  # fmt: skip
    pid_file().write_text(f"{process.pid}\n")
    return process


def _log_tails() -> str:
    return "\n".join(
        f"--- {path} (tail) ---\n{tail(path)}" for path in (server_log(), console_log())
    )


def _wait_ready(process: subprocess.Popen[bytes] | None, pid: int, timeout_s: float) -> None:
    """Wait until the broker answers; raise with the log tail on exit or timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        exited = process.poll() is not None if process else not pid_alive(pid)
        if exited:
            pid_file().unlink(missing_ok=True)
            raise InfraError(f"kafka broker (pid {pid}) exited during start-up\n{_log_tails()}")
        if broker_answers(bootstrap(), timeout_s=3.0):
            return
        time.sleep(0.3)
    raise InfraError(
        f"kafka broker (pid {pid}) not ready on {bootstrap()} after {timeout_s:.0f} s\n"
        + _log_tails()
    )


def start(timeout_s: float = START_TIMEOUT_S, topics: bool = True) -> str:
    """Start the broker if needed, wait until it answers, create the topics; return bootstrap."""
    with file_lock(home() / ".lock"):
        return _start(timeout_s, topics)


def _start(timeout_s: float, topics: bool) -> str:
    servers = bootstrap()
    if broker_answers(servers, timeout_s=3.0):
        print(f"kafka: already running on {servers} (pid {running_pid() or 'unknown'})")
        return servers
    pid = running_pid()
    process = None
    began = time.monotonic()
    if pid is not None:
        print(f"kafka: pid {pid} is starting up; waiting for it")
    else:
        if port_open(HOST, port()) or port_open(HOST, controller_port()):
            raise InfraError(
                f"port {port()} or {controller_port()} is used by something that is not our broker"
            )
        fetch()
        write_config()
        if not is_formatted():
            format_storage()
        began = time.monotonic()
        process = _launch()
        pid = process.pid
    _wait_ready(process, pid, timeout_s)
    elapsed = time.monotonic() - began
    print(f"kafka {KAFKA_VERSION}: ready on {servers} (pid {pid}) in {elapsed:.1f} s")
    if topics:
        create_topics(servers)
    return servers


def _find_orphan_pid() -> int | None:
    """A broker started on our server.properties whose pid file was lost."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_our_broker(int(entry.name)):
            return int(entry.name)
    return None


def stop(timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """SIGTERM the broker, SIGKILL after ``timeout_s``; True if something was stopped."""
    with file_lock(home() / ".lock"):
        return _stop(timeout_s)


def _stop(timeout_s: float) -> bool:
    pid = running_pid() or _find_orphan_pid()
    if pid is None:
        pid_file().unlink(missing_ok=True)
        print("kafka: not running")
        return False
    began = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    if not wait_pid_exit(pid, timeout_s):
        print(f"kafka: pid {pid} still alive after {timeout_s:.0f} s; sending SIGKILL")
        os.kill(pid, signal.SIGKILL)
        wait_pid_exit(pid, 10.0)
    pid_file().unlink(missing_ok=True)
    print(f"kafka: stopped pid {pid} in {time.monotonic() - began:.1f} s")
    return True


def status() -> int:
    """Print the broker's state; 0 if running, 3 if not."""
    running = is_running()
    pid = running_pid()
    state = "running" if running else ("starting (not answering yet)" if pid else "stopped")
    print(
        f"kafka: {state}  pid={pid or '-'}  bootstrap={bootstrap()}"
        f"  version={KAFKA_VERSION}  home={home()}"
    )
    return 0 if running else 3


# --- topics -------------------------------------------------------------------------------


def create_topics(bootstrap: str, topics: dict[str, int] | None = None) -> list[str]:
    """Create topics (name -> partitions, replication 1) unless they exist; return the new ones."""
    from kafka import KafkaAdminClient  # kafka-python
    from kafka.errors import TopicAlreadyExistsError, for_code

    wanted = topics if topics is not None else default_topics()
    request = {
        name: {"num_partitions": count, "replication_factor": 1} for name, count in wanted.items()
    }
    created: list[str] = []
    with KafkaAdminClient(bootstrap_servers=bootstrap, client_id="infra-topics") as admin:
        response = admin.create_topics(request, timeout_ms=30000, raise_errors=False)
        for result in response["topics"]:
            error = for_code(result["error_code"])
            if result["error_code"] == 0:
                created.append(result["name"])
            elif error is not TopicAlreadyExistsError:
                message = f"{error.__name__} {result.get('error_message')}"
                raise InfraError(f"creating topic {result['name']}: {message}")
        admin.wait_for_topics(list(wanted), timeout_ms=30000)
    existing = [name for name in wanted if name not in created]
    print(f"kafka topics: created {created or 'none'}; already existed {existing or 'none'}")
    return created


def ensure_running() -> str:
    """Start the broker if needed (topics created); return its bootstrap address."""
    return start()
