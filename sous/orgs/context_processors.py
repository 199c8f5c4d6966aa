def organization(request):
    """The current organisation and membership, and the user's others for the switcher."""
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    others = (
        request.user.memberships.select_related("organization")
        .exclude(organization_id=membership.organization_id)
        .order_by("organization__name")
    )
    return {"current_org": membership.organization, "membership": membership, "other_orgs": others}
