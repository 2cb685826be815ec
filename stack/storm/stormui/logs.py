"""Storm's log directory as the logviewer serves it: tail, page, search and download, confined to that folder.

A requested name is relative to the log directory. It is refused (a LogRefused value, never an exception) when
it is absolute, has a `..` or `.` part, crosses a symlink anywhere on its way, or is not a regular file, so no
request can read outside the folder, whatever links a worker or a user left in it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_PAGE = 1024 * 1024
DEFAULT_PAGE = 64 * 1024
MAX_MATCHES = 100
MAX_NEEDLE = 1024


@dataclass(frozen=True)
class LogRefused:
    """Why a log name was refused, with the HTTP status the API answers."""

    status: int
    reason: str


def resolve(root: Path, name: str) -> Path | LogRefused:
    """The regular file `name` inside `root`, or why it is refused."""
    if not name or "\x00" in name or "\\" in name or len(name) > 4096:
        return LogRefused(422, "a log file name is a non-empty relative path")
    if name.startswith("/"):
        return LogRefused(403, "absolute paths are not served: give a path relative to Storm's log directory")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return LogRefused(403, "'..', '.' and empty parts are not allowed in a log path")
    path = root
    for part in parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return LogRefused(404, f"no log file {name!r}")
        if stat.S_ISLNK(mode):
            return LogRefused(403, "symbolic links are not followed in Storm's log directory")
    if not stat.S_ISREG(mode):
        return LogRefused(404, f"{name!r} is not a log file")
    if not str(path.resolve()).startswith(str(root.resolve()) + os.sep):
        return LogRefused(403, "outside Storm's log directory")
    return path


def log_roots(primary: Path) -> list[Path]:
    """storm.log.dir, then the log folders of further supervisors on this host (`<storm.log.dir>-<name>`)."""
    siblings = [p for p in sorted(primary.parent.glob(primary.name + "-*")) if p.is_dir() and not p.is_symlink()]
    return [primary, *siblings]


def find(roots: list[Path], name: str) -> Path | LogRefused:
    """`name` in the first root that has it; a refusal other than 'not found' stops the search."""
    refused = LogRefused(404, f"no log file {name!r}")
    for root in roots:
        found = resolve(root, name)
        if isinstance(found, Path) or found.status != 404:
            return found
        refused = found
    return refused


def read_page(path: Path, start: int | None, length: int) -> dict[str, Any]:
    """`length` bytes from byte `start`, or the last `length` bytes when start is None (a tail)."""
    length = max(1, min(length, MAX_PAGE))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        begin = max(0, size - length) if start is None else max(0, min(start, size))
        handle.seek(begin)
        data = handle.read(length)
    return {"start": begin, "length": len(data), "fileSize": size, "content": data.decode("utf-8", "replace")}


def search(path: Path, needle: str, max_matches: int = 20, context: int = 128) -> list[dict[str, Any]]:
    """Occurrences of `needle`, first to last: byte offset, line number and the text around each."""
    wanted = needle.encode()
    matches: list[dict[str, object]] = []
    offset = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            at = line.find(wanted)
            while at >= 0 and len(matches) < min(max_matches, MAX_MATCHES):
                matches.append(
                    {
                        "byteOffset": offset + at,
                        "lineNumber": number,
                        "beforeString": line[max(0, at - context) : at].decode("utf-8", "replace"),
                        "matchString": needle,
                        "afterString": line[at + len(wanted) : at + len(wanted) + context]
                        .decode("utf-8", "replace")
                        .rstrip("\n"),
                    }
                )
                at = line.find(wanted, at + len(wanted))
            if len(matches) >= min(max_matches, MAX_MATCHES):
                break
            offset += len(line)
    return matches


def all_logs(roots: list[Path], topology_id: str | None = None) -> list[dict[str, object]]:
    """worker_logs of every root, each name once (the first root that has it serves it)."""
    seen: dict[str, dict[str, object]] = {}
    for root in roots:
        for entry in worker_logs(root, topology_id):
            seen.setdefault(str(entry["file"]), entry)
    return list(seen.values())


def worker_logs(root: Path, topology_id: str | None = None) -> list[dict[str, object]]:
    """Log files Storm wrote: the daemons' logs, then each worker's (workers-artifacts/<topology>/<port>/)."""
    files = [
        {"file": p.name, "size": p.stat().st_size}
        for p in sorted(root.glob("*.log"))
        if p.is_file() and not p.is_symlink()
    ]
    artifacts = root / "workers-artifacts"
    pattern = f"{topology_id}/*/worker.log*" if topology_id else "*/*/worker.log*"
    if artifacts.is_dir() and "/" not in (topology_id or "") and ".." not in (topology_id or ""):
        files.extend(
            {"file": str(p.relative_to(root)), "size": p.stat().st_size}
            for p in sorted(artifacts.glob(pattern))
            if p.is_file() and not p.is_symlink()
        )
    return files
