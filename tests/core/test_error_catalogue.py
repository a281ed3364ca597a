"""The error catalogue: classes register their code, a code has one status, and ad-hoc codes fail in the suite."""

from __future__ import annotations

import warnings

import pytest

from apps.core import errors
from apps.core.errors import CATALOGUE, Conflict, UndeclaredErrorCode, ValidationFailed
from apps.wallet.errors import WithdrawalNotOpen
from apps.wallet.posting import PostingRefused


def test_it_registers_a_class_under_its_code_with_its_apps_domain_and_when():
    entry = CATALOGUE["withdrawal_not_open"]
    assert (entry.status, entry.domain, entry.source) == (409, "wallet", "apps.wallet.errors.WithdrawalNotOpen")
    assert entry.when == WithdrawalNotOpen.when


def test_a_raise_needs_no_code_and_keeps_the_bases_status():
    error = WithdrawalNotOpen("No longer open.", fields={"withdrawal": ["closed"]})
    assert (error.code, error.status, error.fields) == ("withdrawal_not_open", 409, {"withdrawal": ["closed"]})
    assert isinstance(error, Conflict)


def test_it_refuses_a_code_declared_again_with_another_status():
    with pytest.raises(TypeError, match="withdrawal_not_open"):
        type("WrongStatus", (ValidationFailed,), {"code": "withdrawal_not_open", "__module__": "apps.wallet.errors"})
    assert CATALOGUE["withdrawal_not_open"].status == 409


def test_a_class_outside_apps_is_checked_but_never_listed():
    type("Local", (Conflict,), {"code": "test_only_refusal", "__module__": __name__})
    assert CATALOGUE["test_only_refusal"].domain is None
    assert all(e.code != "test_only_refusal" for es in errors.public_catalogue().values() for e in es)


def test_an_undeclared_code_at_a_raise_fails_in_the_suite():
    with pytest.raises(UndeclaredErrorCode, match="no_such_code"):
        Conflict("Ad hoc.", code="no_such_code")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Conflict("Declared.", code="withdrawal_not_open").code == "withdrawal_not_open"


def test_a_dynamic_code_class_passes_its_computed_codes():
    refused = PostingRefused("Refused.", code="self_excluded", fields={"reasons": ["self_excluded"]})
    assert (refused.code, refused.status) == ("self_excluded", 403)
