"""Webhooks go only where they were allowed: one lookup, public addresses only, pinned, no redirect.

The receivers are real HTTP listeners on 127.0.0.1 (which a guarded portal
must never reach); DNS is the tests' own resolver (tests/resolver.py).
"""

import socket
import ssl
import threading
import time
from http.server import ThreadingHTTPServer

import pytest
import trustme
from django.urls import reverse

from caisi_portal.celery import app
from cases import services
from cases.models import CaseEvent
from core import crypto
from core.errors import BadInput
from tests.api.test_webhooks import Receiver
from tests.resolver import EXAMPLE_ADDRESS
from webhooks import tasks
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import (
    DeliveryOutcome,
    claim_webhook_deliveries,
    deliver_webhook,
    new_webhook_secret,
    register_webhook,
)

LOOPBACK = "127.0.0.1"
# Every form of an address inside CAISI's network, or of no network at all.
NOT_PUBLIC = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",  # the cloud metadata service
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "100.64.0.1",  # carrier-grade NAT
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:10.0.0.1",  # IPv4-mapped
    "::ffff:127.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "224.0.1.1",  # multicast
]
PLAIN_REASONS = {
    "The receiver could not be reached.",
    "The receiver did not answer in time.",
    "The receiver's address is not public.",
    "The receiver's answer was not valid HTTP.",
}


@pytest.fixture
def guarded(settings):
    """Production's guard: only public receivers."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


@pytest.fixture
def on_this_host(settings):
    """The guard lifted for receivers on 127.0.0.1, as in development."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


def one_delivery(webhook: Webhook, *, title: str = "Outbound") -> int:
    """Open a case the webhook's owner sees and return the claimed delivery of its event."""
    case = services.open_case(actor=webhook.owner, title=title, model_name="M")
    event = CaseEvent.objects.get(case=case, verb="case_opened")
    [delivery_id] = [
        pk
        for pk in claim_webhook_deliveries(event_id=event.pk)
        if WebhookDelivery.objects.filter(pk=pk, webhook=webhook).exists()
    ]
    return delivery_id


def url_for(address: str, port: int = 8080) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/hooks/caisi"


# --- DNS rebinding -------------------------------------------------------------------


def test_a_rebinding_name_never_reaches_a_listener_inside(db, cast, guarded, resolver):
    """The name answers a public address for the check and 127.0.0.1 after: nothing gets in."""
    with Receiver() as inside:
        port = inside.server.server_port
        name = "rebind.attacker.test"
        resolver.answer(name, [EXAMPLE_ADDRESS], [LOOPBACK])
        webhook, _ = register_webhook(owner=cast.liaison, url=f"http://{name}:{port}/hook")
        for n in range(90):
            delivery_id = one_delivery(webhook, title=f"Rebind {n}")
            resolver.answer(name, [EXAMPLE_ADDRESS], [LOOPBACK])  # public first, then inside
            before = resolver.lookups_of(name)
            outcome = deliver_webhook(delivery_id=delivery_id)
            assert outcome != DeliveryOutcome.DELIVERED
            assert resolver.lookups_of(name) - before == 1  # resolved once, and pinned
        assert inside.requests == []
        for delivery in WebhookDelivery.objects.filter(webhook=webhook):
            assert delivery.last_error in PLAIN_REASONS or delivery.last_error.startswith(
                "The receiver answered"
            )


def test_a_name_resolved_inside_at_delivery_is_refused_without_a_second_lookup(
    db, cast, guarded, resolver
):
    with Receiver() as inside:
        name = "turns.inside.test"
        resolver.answer(name, [EXAMPLE_ADDRESS])
        webhook, _ = register_webhook(
            owner=cast.liaison, url=f"http://{name}:{inside.server.server_port}/hook"
        )
        delivery_id = one_delivery(webhook)
        resolver.answer(name, [LOOPBACK], [EXAMPLE_ADDRESS])
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.GAVE_UP
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.last_error == "The receiver's address is not public."
        assert resolver.lookups_of(name) == 2  # one at registration, one at delivery
        assert inside.requests == []


def test_with_the_guard_lifted_the_connection_still_goes_to_the_checked_address(
    db, cast, on_this_host, resolver
):
    """127.0.0.1 answered first; the same name's later answer, 127.0.0.2, is never dialled."""
    with Receiver() as checked:
        port = checked.server.server_port
        other = Receiver()
        other.server.server_close()
        other.server = ThreadingHTTPServer(("127.0.0.2", port), other.server.RequestHandlerClass)
        other.thread = threading.Thread(target=other.server.serve_forever, daemon=True)
        with other:
            name = "dev.receiver.test"
            resolver.answer(name, [LOOPBACK])
            webhook, _ = register_webhook(owner=cast.liaison, url=f"http://{name}:{port}/hook")
            for n in range(5):
                delivery_id = one_delivery(webhook, title=f"Pinned {n}")
                resolver.answer(name, [LOOPBACK], ["127.0.0.2"])
                assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.DELIVERED
            assert len(checked.requests) == 5 and other.requests == []
            assert {r["headers"]["Host"] for r in checked.requests} == {f"{name}:{port}"}


# --- every address form --------------------------------------------------------------


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_receiver_on_a_non_public_address_form_is_refused_at_registration(
    db, cast, guarded, address
):
    with pytest.raises(BadInput, match="public internet"):
        register_webhook(owner=cast.liaison, url=url_for(address))
    assert not cast.liaison.webhooks.exists()


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_name_resolving_to_a_non_public_address_form_is_refused_at_registration(
    db, cast, guarded, resolver, address
):
    resolver.answer("inside.attacker.test", [EXAMPLE_ADDRESS, address])
    with pytest.raises(BadInput, match="public internet"):
        register_webhook(owner=cast.liaison, url="https://inside.attacker.test/hook")
    assert not cast.liaison.webhooks.exists()


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_name_resolving_to_a_non_public_address_form_is_refused_at_delivery(
    db, cast, guarded, resolver, address
):
    with Receiver() as inside:
        name = "later.inside.test"
        resolver.answer(name, [EXAMPLE_ADDRESS])
        webhook, _ = register_webhook(
            owner=cast.liaison, url=f"http://{name}:{inside.server.server_port}/hook"
        )
        delivery_id = one_delivery(webhook)
        resolver.answer(name, [address], [LOOPBACK])
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.GAVE_UP
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.status == "failed" and delivery.response_code is None
        assert delivery.last_error == "The receiver's address is not public."
        assert inside.requests == []


@pytest.mark.parametrize("url", ["http://2130706433/hook", "http://0x7f000001/hook"])
def test_a_number_that_means_loopback_is_refused(db, cast, guarded, url):
    with pytest.raises(BadInput, match="public internet"):
        register_webhook(owner=cast.liaison, url=url)


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_name_that_does_not_resolve_is_refused_at_registration(db, cast, settings, allow_private):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = allow_private
    with pytest.raises(BadInput, match="must resolve"):
        register_webhook(owner=cast.liaison, url="https://nothing-here.invalid/hook")
    assert not cast.liaison.webhooks.exists()


def test_unresolvable_and_inside_names_are_refused_in_the_same_words(db, cast, guarded, resolver):
    """The refusal must not tell an outsider which of CAISI's own names exist."""
    resolver.answer("db.caisi.internal", ["10.20.30.40"])
    refusals = []
    for url in ("https://db.caisi.internal/", "https://nothing-here.invalid/"):
        with pytest.raises(BadInput) as refusal:
            register_webhook(owner=cast.liaison, url=url)
        refusals.append(refusal.value.blockers)
    assert refusals[0] == refusals[1]
    assert "10.20.30.40" not in str(refusals[0])


# --- malformed URLs ------------------------------------------------------------------

BACKSLASH_AT = "http://127.0.0.1:8213\\@example.com/a"


@pytest.mark.parametrize(
    "url",
    [
        BACKSLASH_AT,
        "http://hooks.example\\@127.0.0.1/a",
        "http://user:secret@hooks.example/a",
        "http://127.0.0.1@hooks.example/a",
        "http://hooks.example/a\r\nX-Injected: 1",
        "http://hooks.example/a b",
        "http://hooks.example/\x00",
        "http://hooks.example/a\tb",
        "http://höoks.example/",
        "ftp://hooks.example/a",
        "javascript:alert(1)//hooks.example",
        "file:///etc/passwd",
        "http:///nohost",
        "http://hooks.example:0/a",
        "http://hooks.example:65536/a",
        "http://hooks.example:99999/a",
        "http://hooks.example:80x/a",
        "http://hooks.example:/a",
        "http://[::1%25eth0]/a",
        "http://[not-v6]/a",
        "http://hooks..example/a",
        "https://" + "a" * 480 + ".example/",
    ],
)
def test_a_malformed_receiver_url_is_refused_at_registration(db, cast, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # refused for its form, not its address
    with pytest.raises(BadInput):
        register_webhook(owner=cast.liaison, url=url)
    assert not cast.liaison.webhooks.exists()


def test_the_settings_page_refuses_the_backslash_url_with_a_400_and_keeps_it(
    db, cast, client, guarded
):
    client.force_login(cast.liaison)
    page = client.post(reverse("webhooks:webhooks"), {"url": BACKSLASH_AT})
    assert page.status_code == 400
    assert not cast.liaison.webhooks.exists()
    # What was typed is still in the form, to correct.
    assert page.context["form"]["url"].value() == BACKSLASH_AT


def stored(owner, url: str) -> Webhook:
    """A receiver stored before URLs were checked strictly (straight in the table)."""
    return Webhook.objects.create(
        owner=owner, url=url, secret_encrypted=crypto.encrypt(new_webhook_secret())
    )


@pytest.fixture
def in_process(monkeypatch):
    """Tasks run in-process, as on the embedded default: one delivery after another."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_a_stored_backslash_url_fails_alone_and_a_later_owner_is_still_sent(
    db, cast, case_at, on_this_host, in_process
):
    # A submitted case: staff's webhooks hear nothing of a company's draft.
    case = case_at("triage", title="Loop")
    event = CaseEvent.objects.get(case=case, verb="submit_intake")
    with Receiver() as receiver:
        good, _ = register_webhook(owner=cast.auditor, url=receiver.url)
        bad = stored(cast.liaison, BACKSLASH_AT)  # the newest, so it is sent first
        assert tasks.dispatch_webhooks(event.pk) == 2
        failed = WebhookDelivery.objects.get(webhook=bad, event=event)
        assert failed.status == "failed"
        assert failed.last_error == "The URL may not contain a backslash."
        sent = WebhookDelivery.objects.get(webhook=good, event=event)
        assert sent.status == "delivered" and len(receiver.events()) == 1


@pytest.mark.parametrize(
    "url",
    [BACKSLASH_AT, "http://a:b@127.0.0.1:8213/a", "http://127.0.0.1:99999/a", "gopher://x/"],
)
def test_a_stored_malformed_url_gives_up_at_once_without_raising(db, cast, on_this_host, url):
    delivery_id = one_delivery(stored(cast.liaison, url))
    assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.GAVE_UP
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.last_error.startswith("The URL")  # what is wrong with it, in words


# --- answers and failures ------------------------------------------------------------


class RawListener:
    """A TCP listener on 127.0.0.1 that answers each connection with `script(conn)`."""

    def __init__(self, script):
        self.sock = socket.create_server((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            self.script(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sock.close()


def answer_junk(conn, stop):
    conn.recv(65536)
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")


def answer_a_byte_at_a_time(conn, stop):
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.1):
        conn.sendall(b"X")  # a header line that never ends


def answer_nothing(conn, stop):
    stop.wait(10)


def answer_redirect_inside(target_port):
    def script(conn, stop):
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/internal\r\n"
            b"Content-Length: 0\r\n\r\n" % target_port
        )

    return script


def test_a_receiver_that_answers_junk_fails_alone_and_the_next_is_still_sent(
    db, cast, case_at, on_this_host, in_process
):
    # A submitted case: staff's webhooks hear nothing of a company's draft.
    case = case_at("triage", title="Junk")
    event = CaseEvent.objects.get(case=case, verb="submit_intake")
    with RawListener(answer_junk) as junk, Receiver() as receiver:
        register_webhook(owner=cast.auditor, url=receiver.url)
        bad, _ = register_webhook(owner=cast.liaison, url=f"http://127.0.0.1:{junk.port}/h")
        tasks.dispatch_webhooks(event.pk)
        failed = WebhookDelivery.objects.get(webhook=bad, event=event)
        assert failed.status == "pending" and failed.attempts == 1  # to be tried again
        assert failed.last_error == "The receiver's answer was not valid HTTP."
        assert len(receiver.events()) == 1


def test_a_receiver_that_answers_a_byte_at_a_time_cannot_hold_the_worker(
    db, cast, on_this_host, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with RawListener(answer_a_byte_at_a_time) as slow:
        webhook, _ = register_webhook(owner=cast.liaison, url=f"http://127.0.0.1:{slow.port}/h")
        delivery_id = one_delivery(webhook)
        started = time.monotonic()
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        assert time.monotonic() - started < 3
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.last_error == "The receiver did not answer in time."


def test_a_receiver_that_never_answers_is_a_timeout_in_plain_words(
    db, cast, on_this_host, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    with RawListener(answer_nothing) as silent:
        webhook, _ = register_webhook(owner=cast.liaison, url=f"http://127.0.0.1:{silent.port}/")
        delivery_id = one_delivery(webhook)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        assert WebhookDelivery.objects.get(pk=delivery_id).last_error == (
            "The receiver did not answer in time."
        )


def test_a_redirect_is_not_followed(db, cast, on_this_host):
    with Receiver() as inside, RawListener(answer_redirect_inside(inside.server.server_port)) as r:
        webhook, _ = register_webhook(owner=cast.liaison, url=f"http://127.0.0.1:{r.port}/h")
        delivery_id = one_delivery(webhook)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.response_code == 302
        assert delivery.last_error == "The receiver answered 302; redirects are not followed."
        assert inside.requests == []


def test_the_delivery_log_shows_a_reason_not_a_socket_error(db, cast, client, on_this_host):
    closed = socket.create_server((LOOPBACK, 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    webhook, _ = register_webhook(owner=cast.liaison, url=f"http://127.0.0.1:{port}/h")
    delivery_id = one_delivery(webhook)
    assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.last_error == "The receiver could not be reached."
    client.force_login(cast.liaison)
    log = client.get(reverse("webhooks:webhook_deliveries", args=[webhook.pk])).content.decode()
    assert "The receiver could not be reached." in log
    row = log[log.index('data-testid="deliveries"') :]
    for word in ("Errno", "Connection refused", "urlopen", "could not reach the receiver:"):
        assert word not in row


# --- HTTPS: pinned to the address, verified for the name -----------------------------


class TLSReceiver(Receiver):
    """A Receiver behind TLS with a certificate for `names`, recording the SNI it was sent."""

    def __init__(self, ca: trustme.CA, *names: str):
        super().__init__()
        self.server_names: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)


@pytest.fixture
def ca(monkeypatch, tmp_path) -> trustme.CA:
    """A certificate authority the sender trusts, in place of the system's."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


def test_https_is_pinned_to_the_checked_address_and_verified_for_the_name(
    db, cast, on_this_host, resolver, ca
):
    name = "hooks.tls.test"
    with TLSReceiver(ca, name) as receiver:
        port = receiver.server.server_port
        resolver.answer(name, [LOOPBACK])
        webhook, _ = register_webhook(owner=cast.liaison, url=f"https://{name}:{port}/h")
        delivery_id = one_delivery(webhook)
        resolver.answer(name, [LOOPBACK], ["127.0.0.2"])
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.DELIVERED
        [request] = receiver.requests
        assert request["headers"]["Host"] == f"{name}:{port}"
        assert receiver.server_names == [name]


def test_https_to_a_certificate_for_another_name_is_not_sent(db, cast, on_this_host, resolver, ca):
    with TLSReceiver(ca, "someone-else.test") as receiver:
        resolver.answer("hooks.tls.test", [LOOPBACK])
        webhook, _ = register_webhook(
            owner=cast.liaison, url=f"https://hooks.tls.test:{receiver.server.server_port}/h"
        )
        delivery_id = one_delivery(webhook)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.last_error == "The receiver's certificate could not be verified."
        assert receiver.requests == []
