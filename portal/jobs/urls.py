from django.urls import path

from portal.jobs import streams, views

app_name = "jobs"
urlpatterns = [
    path("jobs/", views.dashboard, name="dashboard"),
    path("jobs/stream", streams.dashboard_stream, name="dashboard_stream"),
    path("jobs/<int:job_id>/retry/", views.job_retry, name="retry"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("assets/<int:asset_id>/progress/", views.asset_progress, name="asset_progress"),
    path("assets/<int:asset_id>/progress/stream", streams.asset_stream, name="asset_stream"),
]
