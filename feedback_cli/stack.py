"""``feedback up``: PostgreSQL and Kafka from infra/, then web, consumer, projection
runner, outbound publisher (and the notifier, with a channel) as separate processes, kept
running by a supervisor (a child that exits is restarted with backoff, the restarts
counted); Ctrl-C stops them all (and the servers this command started).
``FEEDBACK_WEB_WORKERS=N`` runs the web as N processes on one port (``feedback web
--workers N`` reads it)."""

from __future__ import annotations

import os
import subprocess
import sys

from feedback_cli.supervisor import Supervisor
from feedback_core.settings import Settings

SERVICES = ("consume", "project", "outbound", "audit run", "web")


def _start_infra() -> tuple[dict[str, str], list[str]]:
    from infra import kafka, postgres

    servers = {"postgres": postgres, "kafka": kafka}
    started = [name for name, module in servers.items() if not module.is_running()]
    pg = postgres.ensure_running()
    bootstrap = kafka.ensure_running()
    kafka.create_topics(bootstrap)
    url = f"postgresql://{pg['user']}@{pg['host']}:{pg['port']}/{pg['dbname']}"
    return {"FEEDBACK_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}, started


def _stop_infra(started: list[str]) -> None:
    from infra import kafka, postgres

    if "kafka" in started:
        kafka.stop()
    if "postgres" in started:
        postgres.stop()


def _spawn(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches only this parent, which stops each child once.
    return subprocess.Popen(
        [sys.executable, "-m", "feedback_cli.main", *command.split()],
        env=env,
        start_new_session=True,
    )


def _services(settings: Settings) -> tuple[str, ...]:
    """The notifier only with a channel configured: it refuses to start without one."""
    from feedback_cli.notifications import notification_channels

    return SERVICES + (("notify",) if notification_channels(settings) else ())


def run_full_stack(settings: Settings, seed: bool = True) -> int:
    extra, started = _start_infra()
    env = {**os.environ, **extra}
    supervisor = Supervisor(_services(settings), lambda command: _spawn(command, env))
    try:
        if seed:
            subprocess.run([sys.executable, "-m", "feedback_cli.main", "seed"], env=env, check=True)
        supervisor.start()
        supervisor.run()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()
        restarted = {name: n for name, n in supervisor.restarts.items() if n}
        if restarted:
            print(f"feedback up: restarts {restarted}", file=sys.stderr)
        _stop_infra(started)
