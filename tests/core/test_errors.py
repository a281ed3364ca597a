"""The domain errors' own codes: what the API answers when a service raises one without naming a code."""

from __future__ import annotations

import pytest

from apps.api.exceptions import exception_handler
from apps.core import errors
from apps.wallet import posting
from tests.refusals import codes_raised_by

DEFAULTS = [
    (errors.ApplicationError, "application_error", 400),
    (errors.ValidationFailed, "invalid", 400),
    (errors.NotFound, "not_found", 404),
    (errors.Conflict, "conflict", 409),
    (errors.PermissionDenied, "permission_denied", 403),
    (errors.ServiceUnavailable, "service_unavailable", 503),
    (posting.PostingRefused, "not_allowed", 403),
    (posting.InsufficientFunds, "insufficient_funds", 409),
]


@pytest.mark.parametrize(("error", "code", "status"), DEFAULTS, ids=[code for _, code, _ in DEFAULTS])
def test_an_error_without_a_code_answers_with_its_classes_code_and_status(error, code, status):
    response = exception_handler(error(), {})
    assert (response.status_code, response.data["code"]) == (status, code)
    assert response.data["message"] == error.default_message and response.data["fields"] == {}


def test_a_code_given_at_the_raise_replaces_the_classes_and_keeps_its_status():
    response = exception_handler(errors.Conflict("Taken.", code="email_taken", fields={"email": ["Taken."]}), {})
    assert (response.status_code, response.data["code"], response.data["fields"]) == (
        409,
        "email_taken",
        {"email": ["Taken."]},
    )
    assert errors.Conflict.code == "conflict"  # the class is untouched


def test_every_class_code_of_the_errors_module_is_in_the_table():
    own = {e.code for e in errors.CATALOGUE.values() if e.source.startswith("apps.core.errors") and e.domain == "api"}
    assert own <= {code for _, code, _ in DEFAULTS}
    assert codes_raised_by(errors) <= {code for _, code, _ in DEFAULTS} | set(errors.CATALOGUE)
