import secrets

from django.core.management.base import BaseCommand

from sous.orgs.models import Organization
from sous.orgs.services import create_organization_with_admin

DEMO_SLUG = "acme-bistro"
DEMO_EMAIL = "admin@acme.example"


class Command(BaseCommand):
    help = "Create the demo organisation and its admin once, printing the login the first time."

    def handle(self, *args, **options):
        if Organization.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f"Demo organisation ready; log in as {DEMO_EMAIL}.")
            return
        password = secrets.token_urlsafe(12)
        create_organization_with_admin(
            name="Acme Bistro", slug=DEMO_SLUG, email=DEMO_EMAIL, password=password
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the demo organisation 'Acme Bistro'.\n"
                f"  Log in as {DEMO_EMAIL} with password {password}\n"
                "  (shown once; reset it with: .venv/bin/python manage.py changepassword "
                f"{DEMO_EMAIL})"
            )
        )
