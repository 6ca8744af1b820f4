from django.urls import path

from portal.uploads import views

app_name = "uploads"
urlpatterns = [
    path("upload/", views.upload_page, name="page"),
    path("uploads/", views.upload_start, name="start"),
    path("uploads/<uuid:session_id>/parts/", views.upload_parts, name="parts"),
    path("uploads/<uuid:session_id>/finalize/", views.upload_finalize, name="finalize"),
    path("uploads/<uuid:session_id>/cancel/", views.upload_cancel, name="cancel"),
]
