"""What can go wrong while processing one file, split by who can fix it.

`ProcessingError` is permanent: the file itself is the problem (empty, corrupt, too large,
not what it claims to be). Its `reason` is a sentence written for the editor, shown as is,
so a caller marks the job failed and never retries it. `ToolMissing` is ours to fix (the
worker lacks ffmpeg or poppler): retrying after a deploy can succeed, so it is not a
`ProcessingError`.
"""

from __future__ import annotations


class ProcessingError(Exception):
    """The file cannot be processed; `reason` says why in words an editor understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ToolTimeout(ProcessingError):
    """A tool ran longer than the limit. Permanent too: the same file will take as long again."""


class ToolMissing(RuntimeError):
    """A command-line tool is not installed on this worker: a deployment fault, not the file's."""
