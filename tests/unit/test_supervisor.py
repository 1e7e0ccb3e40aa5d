"""``feedback up``'s supervisor restarts a child that exits, with backoff and a count."""

from __future__ import annotations

import io
import subprocess
import sys

from feedback_cli.supervisor import Supervisor
from feedback_core.backoff import Backoff


def _spawn(command: str) -> subprocess.Popen[bytes]:
    code = "import sys; sys.exit(3)" if command == "crash" else "import time; time.sleep(30)"
    return subprocess.Popen([sys.executable, "-c", code])


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=5.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_a_child_that_exits_is_restarted_with_backoff_and_counted() -> None:
    now = [0.0]
    out = io.StringIO()
    supervisor = Supervisor(["crash", "steady"], _spawn, out=out, clock=lambda: now[0])
    supervisor.start()
    try:
        crash = supervisor.children[0]
        crash.process.wait(timeout=10)
        supervisor.check()  # noticed: restart #1 in 1 s
        assert "crash exited with code 3; restart #1 in 1.0 s" in out.getvalue()
        supervisor.check()
        assert supervisor.restarts == {"crash": 0, "steady": 0}  # still waiting
        now[0] = 1.0
        supervisor.check()
        assert supervisor.restarts == {"crash": 1, "steady": 0}
        crash.process.wait(timeout=10)
        supervisor.check()
        assert "restart #2 in 2.0 s" in out.getvalue()  # the wait doubles
        assert supervisor.children[1].process.poll() is None
    finally:
        supervisor.stop(timeout_s=5)
    assert all(child.process.poll() is not None for child in supervisor.children)
