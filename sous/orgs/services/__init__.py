"""Creating organisations and their staff (used by commands and the demo bootstrap)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from ..models import Membership, Organization


@transaction.atomic
def create_organization_with_admin(
    *, name: str, email: str, password: str, slug: str = "", role: str = Membership.Role.OWNER
) -> tuple[Organization, Membership]:
    """Create (or reuse) the organisation and the user, and make the user its `role`."""
    org, _ = Organization.objects.get_or_create(slug=slug or slugify(name), defaults={"name": name})
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_model.objects.create_user(username=email, email=email, password=password)
    membership, _ = Membership.objects.update_or_create(
        organization=org, user=user, defaults={"role": role}
    )
    return org, membership
