from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

# The site admin signs in through allauth's login, which asks for the second factor; its own
# login form would take the password alone.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="integrations:index"), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("orgs/switch/", views.switch_organization, name="switch_organization"),
    # A person's email is who an invitation was for and who the Team page lists: allauth's page
    # for adding and switching addresses (unverified, as verification is off) would let anyone
    # become "newhire@…" before the real one accepts. Before allauth's own route, so it wins.
    path("accounts/email/", views.email_addresses_are_fixed),
    path("accounts/", include("allauth.urls")),
    # Our product's Admin section owns /admin/; Django's site admin lives beside it.
    path("django-admin/", admin.site.urls),
    path("", include("sous.notifications.urls")),
    path("", include("integrations.urls")),
    path("", include("sous.orgs.urls")),
    path("", include("sous.documents.urls")),
]
