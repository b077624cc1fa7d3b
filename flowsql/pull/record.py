"""The output folder's record of what pulls wrote there (`.flowsql-pull.json`), so that a pull of
an unchanged window fetches nothing and reads no file.

Per file (its path below the output folder): where it came from, what the source said it was (an S3
object's size, ETag and checksum; a CloudWatch Logs day's event count and content digest), and the
file's state when it was written (size, modification and change time, inode). The record is only
believed while the file's state is unchanged: any write, `touch`, `chmod` or replacement changes the
change time, and the file is then fetched again. The record is replaced atomically, so a run stopped
at any moment leaves the old record or the new one; one that cannot be read is started afresh (every
file is then checked against its source again, never trusted).
"""

from __future__ import annotations

import os
import stat
import threading

from ..files import MAX_DOCUMENT_BYTES, dumps_json, loads_json
from .tree import FileState, Tree

RECORD_NAME = ".flowsql-pull.json"
VERSION = 1


class Record:
    def __init__(self, entries: dict[str, dict] | None = None, note: str | None = None):
        self.entries: dict[str, dict] = entries or {}
        self.note = note  # why an existing record was not used, for the user
        self._lock = threading.Lock()
        self._dirty = False

    @classmethod
    def load(cls, tree: Tree) -> "Record":
        try:
            # a pipe there would block the open: never waited for, then refused as no regular file
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(RECORD_NAME, flags, dir_fd=tree.root_fd)
        except FileNotFoundError:
            return cls()
        except OSError as e:
            return cls(note=f"{tree.root / RECORD_NAME} cannot be read ({e.strerror or e}): every file is checked again")
        try:
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_DOCUMENT_BYTES:
                    raise ValueError("not a regular file of a record's size")
                doc = loads_json(f.read(MAX_DOCUMENT_BYTES + 1).decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("files"), dict):
                raise ValueError("not a record of this version")
            entries = {k: v for k, v in doc["files"].items() if isinstance(v, dict)}
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return cls(note=f"{tree.root / RECORD_NAME} is not a readable record: every file is checked again")
        return cls(entries)

    def get(self, rel: str) -> dict | None:
        return self.entries.get(rel)

    def put(self, rel: str, entry: dict, state: FileState) -> None:
        with self._lock:
            self.entries[rel] = {**entry, "state": state.as_list()}
            self._dirty = True

    @staticmethod
    def unchanged(entry: dict | None, state: FileState | None) -> bool:
        """The file is as the record says it was written."""
        return entry is not None and state is not None and entry.get("state") == state.as_list()

    def save(self, tree: Tree) -> None:
        with self._lock:
            if not self._dirty:
                return
            text = dumps_json({"version": VERSION, "files": self.entries}, what=RECORD_NAME, separators=(",", ":"),
                              sort_keys=True)
            self._dirty = False
        f = tree.new_file(tree.root_fd, RECORD_NAME, after_stop=True)  # a stop keeps what was fetched
        try:
            f.write(text.encode("utf-8"))
            f.commit()
        except BaseException:
            f.discard()
            with self._lock:
                self._dirty = True
            raise
