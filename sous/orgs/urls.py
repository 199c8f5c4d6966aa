from django.urls import path

from . import security, views

app_name = "orgs"

urlpatterns = [
    path("admin/team/", views.team_page, name="team"),
    path("admin/security/", security.security_page, name="security"),
    path("admin/team/invite/", views.invite, name="invite"),
    path(
        "admin/team/invitations/<int:pk>/resend/", views.resend_invitation, name="resend_invitation"
    ),
    path(
        "admin/team/invitations/<int:pk>/revoke/", views.revoke_invitation, name="revoke_invitation"
    ),
    path("admin/team/members/<int:pk>/role/", views.change_role, name="change_role"),
    path("admin/team/members/<int:pk>/remove/", views.remove_member, name="remove_member"),
    # The emailed link; the token is signed (sous.orgs.services.invitations).
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
