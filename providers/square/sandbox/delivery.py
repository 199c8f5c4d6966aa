"""How Square delivers webhook notifications (README §10), for the shared dispatcher.

Each event goes to every enabled subscription of its app that names its type, as a POST of the
bytes recorded for it, signed for the subscription's URL and key as they are at send time.
Anything but a 2xx within 10 s is retried on Square's schedule: after 1, 2, 4, 8, 16 and 32
minutes, then hourly, 78 retries over about 72 hours, then given up ([D13] in the README's
source key).
"""

from __future__ import annotations

from collections.abc import Callable

from providers.sandbox.delivery import Attempt, Delivery

from .timefmt import iso_ms
from .webhooks import sign

RETRY_DELAYS_S = (60, 120, 240, 480, 960, 1920) + (3600,) * 72
ENVIRONMENT = "Sandbox"  # square-environment: Production or Sandbox (README §10)

Target = Callable[[str], tuple[str, str] | None]  # subscription id -> (url, signature key)


class SquareCourier:
    thread_name = "square-webhooks"

    def __init__(self, target: Target) -> None:
        self.target = target

    def request(self, delivery: Delivery) -> tuple[str, bytes, dict[str, str]] | None:
        found = self.target(delivery.target)
        if found is None:
            return None
        url, key = found
        body = delivery.message.body
        headers = {
            "content-type": "application/json",
            "x-square-hmacsha256-signature": sign(key, url, body),
            "square-environment": ENVIRONMENT,
            "square-initial-delivery-timestamp": iso_ms(delivery.initial_ms),
        }
        if delivery.retry_number:  # README §10: the first delivery is not counted
            headers["square-retry-number"] = str(delivery.retry_number)
            headers["square-retry-reason"] = delivery.reason
        return url, body, headers

    def retry_delay(self, delivery: Delivery, attempt: Attempt) -> float | None:
        if delivery.retry_number >= len(RETRY_DELAYS_S):
            return None
        return RETRY_DELAYS_S[delivery.retry_number]

    def describe(self, delivery: Delivery) -> dict:
        event = delivery.message
        return {
            "event_id": event.event_id,
            "event_type": event.type,
            "merchant_id": event.merchant_id,
            "subscription_id": delivery.target,
        }
