"""The roles every API path is tried by, and the checks of their answers."""

COMPANY = ("liaison", "company_admin", "service_read_only", "service_read_write")
STAFF = ("case_manager", "evaluator", "official", "auditor")
OUTSIDERS = ("unassigned_evaluator", "other_liaison")
ROLES = COMPANY + STAFF + OUTSIDERS


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def expect(response, status: int):
    """Assert the status; a refusal must be a problem-details document."""
    if status >= 400:
        return problem(response, status)
    assert response.status_code == status, response.content
    return response.json() if response.content else None
