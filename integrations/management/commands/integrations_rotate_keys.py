from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations import crypto
from integrations.management.cli import OneLineErrors
from integrations.models import IntegrationConfig
from integrations.services import tokens


class Command(OneLineErrors, BaseCommand):
    help = (
        "Re-encrypt every connection's tokens under the first key of "
        "INTEGRATIONS_ENCRYPTION_KEYS. Put the new key first, run this, then drop the old key."
    )

    def handle(self, *args, **options):
        current = crypto.current_key_id()
        done = unreadable = 0
        for config_id in IntegrationConfig.objects.values_list("pk", flat=True):
            with transaction.atomic():
                config = IntegrationConfig.objects.select_for_update().get(pk=config_id)
                if crypto.key_id_of(config.access_token_encrypted) == current and (
                    not config.refresh_token_encrypted
                    or crypto.key_id_of(config.refresh_token_encrypted) == current
                ):
                    continue
                try:
                    grant = tokens.read(config)
                except tokens.CredentialsUnavailable:
                    unreadable += 1
                    continue
                tokens.store(config, grant)
                config.save(update_fields=["access_token_encrypted", "refresh_token_encrypted"])
                done += 1
        self.stdout.write(
            f"{done} connection{'s' if done != 1 else ''} re-encrypted under key {current}."
        )
        if unreadable:
            raise CommandError(
                f"{unreadable} connection(s) could not be decrypted with any key; they are now "
                "in Error and must be reconnected."
            )
