"""The audit log: one JSON line per write, appended before the write is reported done.

What it is for: the record support engineers and auditors read afterwards — every save, create
and delete the explorer sends (TUI, CLI, and any later bulk or import: they all pass through
`ExplorerSession.write`), done, refused or failed. The file is
$DAPR_EXPLORER_AUDIT_LOG, else $XDG_STATE_HOME/dapr-explorer/audit.jsonl (default
~/.local/state/dapr-explorer/audit.jsonl), made readable by its user only. `ready()` is
called before a write is sent: a log that cannot be written refuses the write (nothing sent).
Lines reach the disk (O_DSYNC) before the write that made them is reported; concurrent writes (a
bulk action's) share one durable write, made from a thread (`append_soon`, `append_async`).

What it must never do: be written in a read-only session (there is nothing to log; read-only
sessions never open it), or hold a secret (records come from explorer.core.audit).
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path

from explorer.core.audit import AuditRecord, ReadResult, Who, read_records
from explorer.errors import ExplorerError

FILE_NAME = "audit.jsonl"


class AuditUnavailable(ExplorerError):
    """The audit log cannot be written (before a write: nothing was sent)."""


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    explicit = env.get("DAPR_EXPLORER_AUDIT_LOG")
    if explicit:
        return Path(explicit).expanduser()
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dapr-explorer" / FILE_NAME


@functools.cache
def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return f"uid {os.getuid()}"


@functools.cache
def _host() -> str:
    return socket.gethostname()


def who(context: str | None = None, identity: str | None = None) -> Who:
    return Who(os_user(), _host(), context, identity)


#: Lines reach the disk within the write itself (O_DSYNC: the data and the file's size, all that
#: reading an append back needs; not its times): one system call, so one handover of the GIL, a flush.
_DSYNC = getattr(os, "O_DSYNC", 0)


def _write_durably(fd: int, lines: bytes) -> None:
    """Append `lines` to `fd` and return once they are on disk."""
    view = memoryview(lines)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    if not _DSYNC:
        os.fsync(fd)


#: While writes arrive together (the last flush carried more than one line), a flush waits up to
#: LINGER_SECONDS for more lines, or until LINGER_LINES are waiting: a bulk action then pays one thread
#: hop and one durable write for tens of keys instead of one for every two or three (each hop costs
#: the event loop more than the write it logs). A lone write (the TUI's, the CLI's set) is flushed at
#: once. The line count ends the wait early, so the linger never caps a bulk action's rate.
LINGER_SECONDS = 0.02
LINGER_LINES = 64


def _removed(fd: int) -> bool:
    """Whether the file open at `fd` no longer has a name (then `fd` is closed)."""
    try:
        gone = os.fstat(fd).st_nlink == 0
    except OSError:
        gone = True
    if gone:
        os.close(fd)
    return gone


class AuditLog:
    """Appends records to one file; reads them back."""

    def __init__(self, path: Path | None = None):
        self.path = path if path is not None else default_path()
        self._pending: list[tuple[AuditRecord | Callable[[], AuditRecord], asyncio.Future]] = []  # for the next flush
        self._flusher: asyncio.Task | None = None
        self._writable = False  # a line reached the file, and no append failed since
        self._together = False  # the last flush carried the lines of several writes (a bulk action's)
        self._enough: asyncio.Future | None = None  # while the flusher lingers: done once LINGER_LINES wait

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _DSYNC
        try:
            return os.open(self.path, flags, 0o600)
        except FileNotFoundError:  # its folder is missing (the first write, or removed meanwhile)
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.open(self.path, flags, 0o600)

    @property
    def writable(self) -> bool:
        """Whether a line reached the file and no append failed since (then `ready` asks nothing)."""
        return self._writable

    def ready(self) -> None:
        """Raise AuditUnavailable unless a record can be appended now (called before sending a write).
        Once the file took a line, it is taken to stay writable until an append fails."""
        if self._writable:
            return
        try:
            os.close(self._open())
        except OSError as exc:
            raise AuditUnavailable(
                f"the audit log {self.path} cannot be written ({exc.strerror or exc}); nothing was sent. "
                "Fix its folder's permissions, or set DAPR_EXPLORER_AUDIT_LOG to a file you can write."
            ) from None

    def append(self, *records: AuditRecord) -> None:
        """Append records and flush them to disk, in one durable write; raises AuditUnavailable if that
        failed."""
        self._write_lines(b"".join(record.to_json_line() for record in records))

    async def append_async(self, record: AuditRecord) -> None:
        """Append one record and return once it is on disk, without blocking the event loop."""
        await self.append_soon(record)  # a writer cancelled meanwhile cancels only its wait: the line is written

    def append_soon(self, record: AuditRecord | Callable[[], AuditRecord]) -> asyncio.Future:
        """Queue one record; the future is done once it is on disk, or failed with AuditUnavailable.
        Records queued while a flush is under way go to disk together in the next one (one durable
        write for all of them): a bulk action's concurrent writes do not wait for each other's.
        `record` may be a function that makes it: it is then made, and its line written, with the
        rest of its flush in the flusher's thread, not on the event loop."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((record, done))
        if self._enough is not None and len(self._pending) >= LINGER_LINES and not self._enough.done():
            self._enough.set_result(None)  # enough company: the lingering flush goes now
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return done

    async def _flush(self) -> None:
        fd: int | None = None  # the file, kept open while writes keep arriving (a bulk action's)
        try:
            while self._pending:
                if self._together and len(self._pending) < LINGER_LINES:
                    await self._linger()  # writes are arriving together: let more lines join this flush
                batch, self._pending = self._pending, []
                self._together = len(batch) > 1
                try:
                    fd = await asyncio.to_thread(self._write_records, [record for record, _ in batch], fd)
                except AuditUnavailable as exc:
                    fd = None  # closed by _write_records
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            if fd is not None:
                os.close(fd)  # a regular file's close does not wait for the disk: the lines are on it already

    async def _linger(self) -> None:
        """Wait LINGER_SECONDS, or until LINGER_LINES lines are waiting, whichever comes first."""
        loop = asyncio.get_running_loop()
        self._enough = enough = loop.create_future()
        timer = loop.call_later(LINGER_SECONDS, lambda: enough.done() or enough.set_result(None))
        try:
            await enough
        finally:
            timer.cancel()
            self._enough = None

    def _write_records(self, records: list[AuditRecord | Callable[[], AuditRecord]], fd: int | None) -> int | None:
        """One flush, in the flusher's thread: the records' lines appended durably (see _write_lines)."""
        try:
            lines = b"".join((r if isinstance(r, AuditRecord) else r()).to_json_line() for r in records)
        except Exception as exc:  # noqa: BLE001 - a record that cannot be made must fail its writes, not hang them
            if fd is not None:
                os.close(fd)
            self._writable = False
            raise AuditUnavailable(f"the audit log {self.path} could not be written (a record could not be made: "
                                   f"{exc.__class__.__name__}: {exc})") from None
        return self._write_lines(lines, fd, True)

    def _write_lines(self, lines: bytes, fd: int | None = None, keep: bool = False) -> int | None:
        """Append lines durably to `fd`, else to the file opened for them; with `keep` the file is left
        open and returned, else closed (None returned). Raises AuditUnavailable, the file closed, if
        that failed."""
        try:
            if fd is not None and _removed(fd):  # the file was removed meanwhile: write a new one
                fd = None
            if fd is None:
                fd = self._open()
            try:
                _write_durably(fd, lines)
            except OSError:
                os.close(fd)
                raise
            if not keep:
                os.close(fd)
        except OSError as exc:
            self._writable = False
            raise AuditUnavailable(f"the audit log {self.path} could not be written ({getattr(exc, 'strerror', None) or exc})") from None
        self._writable = True
        return fd if keep else None

    def read(self, since: float | None = None) -> ReadResult:
        """Every record (at or after `since`), oldest first; no file is an empty log."""
        try:
            with open(self.path, "rb") as handle:
                return read_records(handle, since)
        except FileNotFoundError:
            return ReadResult([], 0)
        except OSError as exc:
            raise ExplorerError(f"the audit log {self.path} cannot be read ({exc.strerror or exc})") from None
