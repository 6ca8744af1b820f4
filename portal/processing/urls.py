from django.urls import path

from portal.processing import views

app_name = "processing"
urlpatterns = [
    path("assets/<int:asset_id>/reprocess/", views.rerun, name="rerun"),
    path("assets/<int:asset_id>/ocr-languages/", views.ocr_languages, name="ocr_languages"),
]
