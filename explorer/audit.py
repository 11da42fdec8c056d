"""The audit log: one JSON line per write, appended before the write is reported done.

What it is for: the record support engineers and auditors read afterwards — every save, create
and delete the explorer sends (TUI, CLI, and any later bulk or import: they all pass through
`ExplorerSession.write`), done, refused or failed. The file is
$DAPR_EXPLORER_AUDIT_LOG, else $XDG_STATE_HOME/dapr-explorer/audit.jsonl (default
~/.local/state/dapr-explorer/audit.jsonl), made readable by its user only. `ready()` is
called before a write is sent: a log that cannot be written refuses the write (nothing sent).
Each line is written with one append and fsync'd.

What it must never do: be written in a read-only session (there is nothing to log; read-only
sessions never open it), or hold a secret (records come from explorer.core.audit).
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
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


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return f"uid {os.getuid()}"


def who(context: str | None = None, identity: str | None = None) -> Who:
    return Who(os_user(), socket.gethostname(), context, identity)


class AuditLog:
    """Appends records to one file; reads them back."""

    def __init__(self, path: Path | None = None):
        self.path = path if path is not None else default_path()

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def ready(self) -> None:
        """Raise AuditUnavailable unless a record can be appended now (called before sending a write)."""
        try:
            os.close(self._open())
        except OSError as exc:
            raise AuditUnavailable(
                f"the audit log {self.path} cannot be written ({exc.strerror or exc}); nothing was sent. "
                "Fix its folder's permissions, or set DAPR_EXPLORER_AUDIT_LOG to a file you can write."
            ) from None

    def append(self, record: AuditRecord) -> None:
        """Append one record and flush it to disk; raises AuditUnavailable if that failed."""
        line = record.to_json_line()
        try:
            fd = self._open()
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"only {written} of {len(line)} bytes written")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditUnavailable(f"the audit log {self.path} could not be written ({getattr(exc, 'strerror', None) or exc})") from None

    def read(self, since: float | None = None) -> ReadResult:
        """Every record (at or after `since`), oldest first; no file is an empty log."""
        try:
            with open(self.path, "rb") as handle:
                return read_records(handle, since)
        except FileNotFoundError:
            return ReadResult([], 0)
        except OSError as exc:
            raise ExplorerError(f"the audit log {self.path} cannot be read ({exc.strerror or exc})") from None
