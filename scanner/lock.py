"""Who may write to ``signals.db``, and when: the one-writer rule.

1. **Long jobs hold the process lock.** ``scanner schedule``, ``scanner run``, ``scanner fetch``,
   ``scanner analyse`` and ``scanner digest`` hold ``<db>.lock`` for as long as they work; a second
   one gets ``LockedError`` (exit code 4) naming the holder. Inside, each stage writes in short
   transactions (one per source, batch or stage), and slow work (fetching, tokenising, embedding,
   clustering) happens between them, never inside one.
2. **Small analyst writes are short transactions and never take the lock.** ``scanner review``,
   ``scanner signals merge`` and ``scanner signals rename`` write one transaction each while a long
   job runs. They wait only for the commit of the long job's current transaction (SQLite's busy
   timeout, ``scanner.store.BUSY_TIMEOUT``); past it they fail with a message and write nothing,
   so an analyst's write is stored or refused, never lost. The long job reads their effect at its
   next write (a merge made during ``analyse`` is followed when the assignments are stored).
3. **Readers never write.** ``scanner status``, ``scanner items``, ``scanner signals`` (listing)
   and the exports open the database read-only; SQLite's WAL mode lets them read while the writer
   works.

The lock is ``fcntl.flock`` on an open file descriptor, so the operating system drops it when the
holder dies, even on ``kill -9``: a crash never leaves the database locked. The file's content
(pid, host, command, start time) is only there to write a helpful message.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from scanner.clock import iso, now_utc
from scanner.errors import LockedError, StoreError

logger = logging.getLogger(__name__)


def lock_path_for(db_path: str | Path) -> Path:
    """``signals.db`` → ``signals.db.lock`` (same folder, so it follows the database)."""
    p = Path(db_path)
    return p.with_name(p.name + ".lock")


def read_holder(lock_path: str | Path) -> dict[str, Any] | None:
    """What the current (or last) holder wrote into the lock file, or ``None``."""
    try:
        text = Path(lock_path).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another scanner process (it has not written its pid yet)"
    who = f"`{holder.get('command') or 'scanner'}` (pid {holder.get('pid', '?')}"
    if holder.get("host") and holder.get("host") != socket.gethostname():
        who += f" on {holder['host']}"
    if holder.get("started_at"):
        who += f", since {holder['started_at']}"
    return who + ")"


class DbLock:
    """The lock for one database. ``acquire()`` never blocks: it raises ``LockedError`` when held."""

    def __init__(self, db_path: str | Path, command: str = "scanner") -> None:
        self.db_path = Path(db_path)
        self.path = lock_path_for(db_path)
        self.command = command
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DbLock:
        if self._fd is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise StoreError(f"{self.path}: cannot create the lock file ({e.strerror}); "
                             "check that the database folder is writable") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(f"{self.path}: cannot lock ({e.strerror}); is the database on a network "
                                 "file system without flock support?") from e
            holder = read_holder(self.path)
            raise LockedError(
                f"{self.db_path} is in use by {describe_holder(holder)}; only one scanner process may write "
                f"to a database at a time. Wait for it to finish, or stop it (for the service: "
                f"`systemctl stop scanner`). The lock is released automatically when that process exits."
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "started_at": iso(now_utc())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        self._fd = fd
        logger.debug("locked %s for %s", self.path, self.command)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # an empty file means "not held"; the flock is what counts
        except OSError:
            pass
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        logger.debug("unlocked %s", self.path)

    def __enter__(self) -> DbLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


@contextmanager
def hold_lock(db_path: str | Path | None, command: str) -> Iterator[DbLock | None]:
    """Hold the database lock for the block; an in-memory database (``None``) needs none."""
    if db_path is None:
        yield None
        return
    lock = DbLock(db_path, command)
    with lock:
        yield lock
