from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="integrations:index"), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("orgs/switch/", views.switch_organization, name="switch_organization"),
    path("accounts/", include("allauth.urls")),
    # Our product's Admin section owns /admin/; Django's site admin lives beside it.
    path("django-admin/", admin.site.urls),
    path("", include("sous.notifications.urls")),
    path("", include("integrations.urls")),
    path("", include("sous.orgs.urls")),
    path("", include("sous.documents.urls")),
]
