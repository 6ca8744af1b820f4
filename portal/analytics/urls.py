from django.urls import path

from portal.analytics import views

app_name = "analytics"
urlpatterns = [
    path("studio/analytics/", views.dashboard, name="dashboard"),
    path("analytics/plays/", views.record_play, name="plays"),
    path("analytics/token/", views.csrf_token, name="token"),
]
