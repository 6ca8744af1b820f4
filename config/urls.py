from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("portal.library.urls")),
    path("", include("portal.media.urls")),
    path("", include("portal.search.urls")),
    path("studio/", include("portal.library.studio_urls")),
    path("studio/", include("portal.uploads.urls")),
    path("studio/", include("portal.processing.urls")),
    path("studio/", include("portal.jobs.urls")),
    path("studio/", include("portal.audit.urls")),
    path("", include("portal.analytics.urls")),
    path("accounts/", include("portal.accounts.urls")),
    path("", include("portal.ops.urls")),
    path("admin/", admin.site.urls),
]

# A database that is down or restarting answers 503 with Retry-After (templates/503.html), not 500.
handler500 = "portal.ops.views.server_error"
