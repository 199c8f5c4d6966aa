"""Admin > Integrations. Views validate, call one service and respond; logic lives in services."""

from django.shortcuts import render

from sous.orgs.decorators import org_member_required


@org_member_required
def index(request):
    return render(request, "integrations/index.html")
