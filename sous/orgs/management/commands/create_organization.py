from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sous.orgs.models import Membership
from sous.orgs.services import create_organization_with_admin


class Command(BaseCommand):
    help = "Create an organisation and its admin user (or add an existing user to it)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Organisation name, e.g. 'Acme Bistro'")
        parser.add_argument("--slug", default="", help="URL-safe id (default: from the name)")
        parser.add_argument("--email", required=True, help="The admin's login email")
        parser.add_argument(
            "--password",
            default="",
            help="the new user's password (not needed for an existing user)",
        )
        parser.add_argument("--role", choices=Membership.Role.values, default="owner")

    def handle(self, *args, **options):
        if "@" not in options["email"]:
            raise CommandError(f"{options['email']!r} is not an email address.")
        user_exists = get_user_model().objects.filter(email__iexact=options["email"]).exists()
        if not user_exists and not options["password"]:
            raise CommandError(f"{options['email']} has no account yet: give it a --password.")
        org, membership = create_organization_with_admin(
            name=options["name"],
            slug=options["slug"],
            email=options["email"],
            password=options["password"],
            role=options["role"],
        )
        self.stdout.write(
            f"{membership.user.email} is {membership.role} of {org.name} (slug {org.slug})."
        )
