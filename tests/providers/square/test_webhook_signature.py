"""Square's webhook signature, against the reference's known answers (README §10)."""

import json

from providers.square import webhooks

VECTOR_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
VECTOR_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
VECTOR_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
VECTOR_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="


def test_the_reference_vectors():
    assert webhooks.signature(VECTOR_KEY, VECTOR_URL, VECTOR_BODY) == VECTOR_SIGNATURE
    second = webhooks.signature(
        "signature-key",
        "https://webhook.site/webhooks",
        b'{"data":{"type":"webhooks","id":">id<"}}',
    )
    assert second == "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="


def test_a_good_signature_is_accepted_with_either_key_of_a_rotation():
    assert webhooks.signature_valid(
        VECTOR_SIGNATURE, VECTOR_BODY, url=VECTOR_URL, keys=[VECTOR_KEY]
    )
    assert webhooks.signature_valid(
        VECTOR_SIGNATURE, VECTOR_BODY, url=VECTOR_URL, keys=["the-new-key", VECTOR_KEY]
    )


def test_anything_else_is_refused():
    def valid(header=VECTOR_SIGNATURE, body=VECTOR_BODY, url=VECTOR_URL, keys=(VECTOR_KEY,)):
        return webhooks.signature_valid(header, body, url=url, keys=keys)

    pretty = json.dumps(json.loads(VECTOR_BODY), indent=2).encode()
    assert not valid(body=pretty)  # the same event re-serialised
    assert not valid(url=VECTOR_URL + "/")  # another URL than the one registered
    assert not valid(url=VECTOR_URL.replace("https", "http"))
    assert not valid(keys=("another-key",))
    assert not valid(header="")
    assert not valid(header=VECTOR_SIGNATURE.rstrip("="))
    assert not valid(keys=())


def test_events_name_the_work_they_ask_for():
    def event(type_, data):
        return json.dumps(
            {"merchant_id": "M1", "type": type_, "event_id": "e1", "data": data}
        ).encode()

    order = webhooks.read(
        event("order.updated", {"type": "order_updated", "id": "O1", "object": {}})
    )
    assert order.account_id == "M1" and order.event_id == "e1"
    assert [(r.action, r.params) for r in order.requests] == [("orders", {"order_ids": ["O1"]})]
    payment = webhooks.read(
        event(
            "payment.created",
            {"type": "payment", "id": "P1", "object": {"payment": {"order_id": "O2"}}},
        )
    )
    assert payment.requests[0].params == {"order_ids": ["O2"]}
    catalog = webhooks.read(
        event("catalog.version.updated", {"type": "catalog_version", "object": {}})
    )
    assert catalog.requests[0].action == "catalog"
    revoked = webhooks.read(event("oauth.authorization.revoked", {"type": "revocation"}))
    assert revoked.revoked and revoked.requests == ()
