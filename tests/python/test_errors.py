"""Each core error kind maps to exactly one Python class, through the real conversion path."""

import pytest

import magflow_emag as m
import magflow_emag.errors as errors

KINDS = {
    1: m.RateLimitError,
    2: m.AuthenticationError,
    3: m.ValidationError,
    4: m.ResourceNotFoundError,
    5: m.BusinessLogicError,
    6: m.NetworkError,
    7: m.EmagTimeoutError,
    8: m.ApiResponseError,
    9: m.StoreError,
    10: m.BackupError,
    11: m.InvalidArgumentError,
    12: m.InternalError,
}


@pytest.mark.parametrize("code,cls", sorted(KINDS.items()))
def test_each_kind_maps_to_its_class(code, cls):
    from magflow_emag import _native

    with pytest.raises(cls) as info:
        _native._probes.raise_error_kind(code, "boom")
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, m.EmagApiError)
    assert exc.code == code
    assert exc.message == "boom" or code == 3
    assert str(exc) == exc.message


def test_kind_specific_attributes():
    from magflow_emag import _native

    with pytest.raises(m.RateLimitError) as rl:
        _native._probes.raise_error_kind(1)
    assert rl.value.remaining_seconds == pytest.approx(1.5)
    assert rl.value.retryable is True
    with pytest.raises(m.ValidationError) as v:
        _native._probes.raise_error_kind(3, "products[0].quantity: must be > 0")
    assert v.value.validation_errors == ["products[0].quantity: must be > 0"]
    with pytest.raises(m.ApiResponseError) as api:
        _native._probes.raise_error_kind(8)
    assert api.value.response_data == {"isError": True}
    assert api.value.status_code == 200
    with pytest.raises(m.NetworkError) as net:
        _native._probes.raise_error_kind(6)
    assert net.value.status_code == 503


def test_same_class_objects_from_both_modules():
    for name in errors.__all__:
        assert getattr(m, name) is getattr(errors, name)


def test_unknown_kind_is_invalid_argument():
    from magflow_emag import _native

    with pytest.raises(m.InvalidArgumentError):
        _native._probes.raise_error_kind(99)


# ---- legacy construction defaults (C1): used only when status_code is omitted ----------------


@pytest.mark.parametrize(
    "cls,status",
    [
        (m.RateLimitError, 429),
        (m.AuthenticationError, 401),
        (m.ValidationError, 400),
        (m.ResourceNotFoundError, 404),
        (m.BusinessLogicError, 422),
        (m.NetworkError, 503),
        (m.EmagTimeoutError, 504),
        (m.EmagApiError, None),
        (m.StoreError, None),
    ],
)
def test_user_built_errors_get_the_legacy_status(cls, status):
    assert cls("x").status_code == status
    assert cls("x", status_code=None).status_code is None  # an explicit None stays None
    assert cls("x", status_code=418).status_code == 418


def test_legacy_default_messages():
    exc = m.RateLimitError(remaining_seconds=60)
    assert exc.status_code == 429 and "60" in str(exc) and exc.remaining_seconds == 60
    assert m.RateLimitError("slow down").message == "slow down"
    assert m.AuthenticationError().message == "Authentication failed"
    assert m.AuthenticationError().status_code == 401


def test_native_raises_keep_their_status():
    from magflow_emag import _native

    for code, cls in KINDS.items():
        with pytest.raises(cls) as info:
            _native._probes.raise_error_kind(code, "boom")
        # The native side always passes status_code: no class default leaks into it.
        assert info.value.status_code in (None, 200, 401, 404, 503)
        if code in (1, 3, 5, 7):
            assert info.value.status_code is None


def test_the_classes_come_from_the_core_table():
    from magflow_emag import _native

    rows = _native._error_kinds()
    assert [row[0] for row in rows] == sorted(KINDS)
    for code, kind, class_name, retry, doc in rows:
        cls = getattr(errors, class_name)
        assert cls is KINDS[code]
        assert (cls.default_code, cls.default_kind) == (code, kind)
        assert cls("x").retryable is (retry == "always")
        assert (cls in errors._RETRYABLE) is (retry == "always")
        assert cls.__doc__
    assert m.NetworkError("x", retryable=False).retryable is False
