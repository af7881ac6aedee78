"""Root URLconf: this image's /health/* and /metrics, then everything of Bots.

Bots' own urls end in a catch-all (`^.*` -> index page), so these must come first or /health/* would be
answered by the HTML index page (the defect of the original deployment).
"""

from django.conf.urls import include
from django.urls import re_path

from botsedi import health, metrics

urlpatterns = [
    re_path(r"^health/live/?$", health.live),
    re_path(r"^health/ready/?$", health.ready),
    re_path(r"^health/startup/?$", health.startup),
    re_path(r"^health/ping/?$", health.ping),
    re_path(r"^metrics/?$", metrics.view),
    re_path(r"", include("bots.urls")),
]

handler500 = "bots.views.server_error"
