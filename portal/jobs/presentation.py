"""What the progress templates show, built alike from a job row (pages) or an event (the stream)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.jobs.models import Job, JobStatus, StatusMeaning
from portal.jobs.progress import ProgressEvent

# The pipeline's stage names (portal/processing) in words; an unknown stage shows as it is.
STAGE_LABELS = {
    "": "Waiting to start",
    "probe": "Reading the media",
    "metadata": "Reading metadata",
    "thumbnails": "Making thumbnails",
    "poster": "Making the poster",
    "storyboard": "Making the storyboard",
    "renditions": "Making image sizes",
    "hls": "Making streaming versions",
    "waveform": "Drawing the waveform",
    "text": "Extracting text",
    "ocr": "Reading scanned text (OCR)",
    "download": "Fetching the upload",
    "preview": "Making the preview",
    "store": "Storing the results",
}
STATUS_LABELS = dict(JobStatus.choices)


@dataclass(frozen=True)
class ProgressView(StatusMeaning):
    job_id: int
    asset_id: int
    status: str
    stage: str
    percent: int
    error: str = ""

    @classmethod
    def from_job(cls, job: Job) -> ProgressView:
        return cls(job_id=job.pk, asset_id=job.asset_id, status=job.status, stage=job.stage,
                   percent=job.percent, error=job.error)

    @classmethod
    def from_event(cls, event: ProgressEvent) -> ProgressView:
        return cls(job_id=int(event["job"]), asset_id=int(event["asset"]), status=str(event["status"]),
                   stage=str(event.get("stage") or ""), percent=max(0, min(100, int(event.get("percent") or 0))),
                   error=str(event.get("error") or ""))

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage.replace("_", " ").capitalize())

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)
