"""What workers do to an asset's file: pure functions from one local file to local output files
plus JSON-safe metadata. No models, storage or queues here; the services and tasks around these
functions download, upload, record jobs and publish progress.

    result = process("video", src, out_dir, progress)
    result.metadata()   # for the asset's JSONB attributes
    result.outputs      # [(path relative to out_dir, content type)] to upload
"""

from portal.processing.common import Output, Progress, Result
from portal.processing.dispatch import process
from portal.processing.errors import ProcessingError, ToolMissing, ToolTimeout

__all__ = ["Output", "ProcessingError", "Progress", "Result", "ToolMissing", "ToolTimeout", "process"]
