"""The REST API of a person's webhooks: register, list, rotate the secret, test, delete.

A token manages its own person's webhooks only; anyone else's is a 404.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from core.api import READ_PROBLEMS, PortalAPIView, problems
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery


class TestEventSerializer(serializers.Serializer):
    requested_at = serializers.DateTimeField(source="test_requested_at", allow_null=True)
    sent_at = serializers.DateTimeField(source="test_sent_at", allow_null=True)
    response_code = serializers.IntegerField(source="test_response_code", allow_null=True)
    error = serializers.CharField(source="test_error")


class WebhookSerializer(serializers.ModelSerializer):
    last_test = TestEventSerializer(source="*", help_text="The last test event asked for.")

    class Meta:
        model = Webhook
        fields = ["id", "url", "active", "created_at", "last_test"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event_uid")
    case = serializers.CharField(source="event.case.number")
    action = serializers.CharField(source="event.verb")

    class Meta:
        model = WebhookDelivery
        fields = [
            "event_id",
            "case",
            "action",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "created_at",
            "last_attempt_at",
            "delivered_at",
        ]


class WebhookDetailSerializer(WebhookSerializer):
    deliveries = serializers.SerializerMethodField()

    class Meta(WebhookSerializer.Meta):
        fields = WebhookSerializer.Meta.fields + ["deliveries"]

    @extend_schema_field(DeliverySerializer(many=True))
    def get_deliveries(self, webhook: Webhook) -> list[dict]:
        recent = webhook.deliveries.select_related("event__case")[:50]
        return DeliverySerializer(recent, many=True).data


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_ and base64), shown this once."
    )

    class Meta(WebhookSerializer.Meta):
        fields = WebhookSerializer.Meta.fields + ["secret"]


class WebhookCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="An http(s) URL on the public internet.")


def own_webhook(request, pk: int) -> Webhook:
    webhook = Webhook.objects.filter(pk=pk, owner=request.user).first()
    if webhook is None:
        raise exceptions.NotFound("You have no webhook with that id.")
    return webhook


def with_secret(webhook: Webhook, secret: str) -> dict:
    return {**WebhookSerializer(webhook).data, "secret": secret}


class WebhookListView(PortalAPIView):
    @extend_schema(
        operation_id="webhooks_list",
        summary="Your webhooks, newest first",
        responses={200: WebhookSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
    def get(self, request):
        return Response(WebhookSerializer(request.user.webhooks.all(), many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register a receiver for signed case events; its secret is shown once",
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def post(self, request):
        body = WebhookCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        webhook, secret = services.register_webhook(
            owner=request.user, url=body.validated_data["url"]
        )
        return Response(with_secret(webhook, secret), status=status.HTTP_201_CREATED)


class WebhookDetailView(PortalAPIView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="One of your webhooks, with its latest deliveries",
        responses={200: WebhookDetailSerializer, **problems(*READ_PROBLEMS)},
    )
    def get(self, request, pk: int):
        return Response(WebhookDetailSerializer(own_webhook(request, pk)).data)

    @extend_schema(
        operation_id="webhooks_delete",
        summary="Delete one of your webhooks and its delivery log",
        responses={204: None, **problems(401, 403, 404, 429)},
    )
    def delete(self, request, pk: int):
        services.delete_webhook(actor=request.user, webhook=own_webhook(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(PortalAPIView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="Give a webhook a new secret, shown once; the old one stops at once",
        request=None,
        responses={200: WebhookWithSecretSerializer, **problems(401, 403, 404, 429)},
    )
    def post(self, request, pk: int):
        webhook, secret = services.rotate_webhook_secret(
            actor=request.user, webhook=own_webhook(request, pk)
        )
        return Response(with_secret(webhook, secret))


class WebhookTestView(PortalAPIView):
    @extend_schema(
        operation_id="webhooks_test",
        summary="Send a signed `webhook.test` event; `last_test` shows what the receiver said",
        request=None,
        responses={202: WebhookSerializer, **problems(401, 403, 404, 409, 429)},
    )
    def post(self, request, pk: int):
        webhook = services.request_test_event(actor=request.user, webhook=own_webhook(request, pk))
        return Response(WebhookSerializer(webhook).data, status=status.HTTP_202_ACCEPTED)
