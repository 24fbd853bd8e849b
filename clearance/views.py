from django.shortcuts import get_object_or_404, render

from .models import ClearanceStatement


def verify(request, code):
    """Public: whether a clearance statement is valid, superseded or revoked."""
    statement = get_object_or_404(
        ClearanceStatement.objects.select_related("case__organization", "model_version"),
        verification_code=code,
    )
    return render(request, "clearance/verify.html", {"statement": statement})
