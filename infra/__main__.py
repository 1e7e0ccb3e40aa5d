"""Command line: ``python -m infra kafka|postgres|up|down|status|browser ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from infra import InfraError, browser, kafka, postgres


def _kafka(action: str) -> int:
    if action == "fetch":
        kafka.fetch()
    elif action == "start":
        kafka.start()
    elif action == "stop":
        kafka.stop()
    elif action == "status":
        return kafka.status()
    elif action == "topics":
        kafka.create_topics(kafka.bootstrap())
    return 0


def _postgres(action: str) -> int:
    if action == "start":
        postgres.start()
    elif action == "stop":
        postgres.stop()
    elif action == "status":
        return postgres.status()
    elif action == "url":
        print(postgres.url())
    return 0


def _up() -> int:
    kafka.start()
    postgres.start()
    return 0


def _down() -> int:
    kafka.stop()
    postgres.stop()
    return 0


def _browser() -> int:
    print(f"chromium: {browser.ensure_chromium()}")
    return 0


def _status() -> int:
    codes = [kafka.status(), postgres.status()]
    return 0 if not any(codes) else 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    kafka_parser = commands.add_parser("kafka", help="single-node Apache Kafka (KRaft)")
    kafka_parser.add_argument("action", choices=["fetch", "start", "stop", "status", "topics"])
    pg_parser = commands.add_parser("postgres", help="PostgreSQL server")
    pg_parser.add_argument("action", choices=["start", "stop", "status", "url"])
    commands.add_parser("up", help="start Kafka and PostgreSQL")
    commands.add_parser("down", help="stop Kafka and PostgreSQL")
    commands.add_parser("status", help="status of both (exit 0 only if both run)")
    commands.add_parser("browser", help="install Debian's Chromium for browser tests if missing")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit codes: 0 ok/running, 1 error, 3 not running."""
    args = _parser().parse_args(argv)
    simple: dict[str, Callable[[], int]] = {
        "up": _up, "down": _down, "status": _status, "browser": _browser,
    }
    try:
        if args.command == "kafka":
            return _kafka(args.action)
        if args.command == "postgres":
            return _postgres(args.action)
        return simple[args.command]()
    except InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
