from django.urls import path

from . import views
from .webhooks import views as webhooks

app_name = "integrations"

urlpatterns = [
    path("admin/integrations/", views.index, name="index"),
    path("integrations/connect/<slug:key>/", views.connect_start, name="connect"),
    # No trailing slash: this exact URI is registered with each provider.
    path("integrations/callback/<slug:key>", views.connect_callback, name="callback"),
    path("integrations/<slug:key>/card/", views.card, name="card"),
    path("integrations/<slug:key>/manage/", views.manage, name="manage"),
    path("integrations/<slug:key>/health/", views.health_check, name="health"),
    path("integrations/<slug:key>/switch/", views.switch_account, name="switch"),
    path("integrations/<slug:key>/disconnect/", views.disconnect_view, name="disconnect"),
    path("integrations/<slug:key>/settings/", views.save_settings, name="settings"),
    path("integrations/<slug:key>/lookup/<slug:name>/", views.lookup, name="lookup"),
    path(
        "integrations/<slug:key>/lookup/<slug:name>/refresh/",
        views.refresh_lookup,
        name="lookup_refresh",
    ),
    path(
        "integrations/<slug:key>/actions/<slug:action_key>/",
        views.start_action,
        name="action",
    ),
    path(
        "integrations/<slug:key>/actions/<slug:action_key>/form/",
        views.action_form,
        name="action_form",
    ),
    path("integrations/<slug:key>/ledger/", views.ledger_calendar, name="ledger"),
    path("integrations/<slug:key>/ledger/day/", views.ledger_day, name="ledger_day"),
    path(
        "integrations/<slug:key>/schedules/<slug:action_key>/",
        views.save_schedule,
        name="schedule",
    ),
    # No trailing slash: the exact URL registered with the provider.
    path("integrations/webhooks/<slug:key>", webhooks.notification, name="webhook"),
    path("integrations/jobs/<uuid:job_id>/", views.job_status, name="job"),
    path("integrations/jobs/<uuid:job_id>/cancel/", views.cancel_job, name="cancel_job"),
]
