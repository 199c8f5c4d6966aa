"""No token the sandbox issued ever reaches a browser, a log, a socket, the admin or Celery."""

import io
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command

from integrations.consumers import org_group
from integrations.models import IntegrationConfig
from integrations.tasks import refresh_tokens
from tests.conftest import wait_for
from tests.consent import callback_path, consent

pytestmark = pytest.mark.django_db(transaction=True)


def connect(client, key):
    start = client.get(f"/integrations/connect/{key}/")
    path, params = callback_path(consent(start["Location"]))
    return client.get(path, params)


class GroupListener:
    """Everything published to the organisation's group, read through the real channel layer."""

    def __init__(self, org_id: int) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(org_group(org_id), self.channel)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        async def receive_all():
            import asyncio

            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), 0.5)
                except TimeoutError:
                    return
                self.messages.append(repr(message))

        async_to_sync(receive_all)()
        return self.messages


def test_no_issued_token_appears_anywhere_a_person_or_log_can_see(
    owner_client, org, owner, product_on_sandbox, caplog, integrations_worker, admin_client
):
    caplog.set_level(logging.DEBUG)
    listener = GroupListener(org.id)
    seen: list[str] = []

    for key in ("square", "google"):
        seen.append(connect(owner_client, key).content.decode())
    product_on_sandbox.control("POST", "tokens/expire")  # forces refreshes: more tokens issued
    for key in ("square", "google"):
        seen.append(owner_client.get("/admin/integrations/").content.decode())
        seen.append(owner_client.get(f"/integrations/{key}/card/").content.decode())
        seen.append(owner_client.get(f"/integrations/{key}/manage/").content.decode())
        seen.append(owner_client.get(f"/integrations/{key}/health/?force=1").content.decode())
    result = refresh_tokens.delay()
    wait_for(lambda: result.ready(), timeout=30)
    for config in IntegrationConfig.objects.all():
        seen.append(
            admin_client.get(
                f"/django-admin/integrations/integrationconfig/{config.pk}/change/"
            ).content.decode()
        )
    seen.append(admin_client.get("/django-admin/integrations/integrationevent/").content.decode())
    seen.extend(listener.drain())
    seen.append(caplog.text)
    from django_celery_results.models import TaskResult

    seen.extend(repr(row) for row in TaskResult.objects.values())

    issued = product_on_sandbox.issued_tokens()
    assert len(issued) >= 6  # two grants (access + refresh each) and refreshes
    everything = "\n".join(seen)
    for token in issued:
        assert token not in everything


def test_a_database_dump_holds_no_plaintext_token(owner_client, product_on_sandbox):
    for key in ("square", "google"):
        connect(owner_client, key)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    text = dump.getvalue()
    issued = product_on_sandbox.issued_tokens()
    assert issued
    for token in issued:
        assert token not in text
