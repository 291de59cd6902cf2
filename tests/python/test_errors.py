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
        _native._raise_error_kind(code, "boom")
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, m.EmagApiError)
    assert exc.code == code
    assert exc.message == "boom" or code == 3
    assert str(exc) == exc.message


def test_kind_specific_attributes():
    from magflow_emag import _native

    with pytest.raises(m.RateLimitError) as rl:
        _native._raise_error_kind(1)
    assert rl.value.remaining_seconds == pytest.approx(1.5)
    assert rl.value.retryable is True
    with pytest.raises(m.ValidationError) as v:
        _native._raise_error_kind(3, "products[0].quantity: must be > 0")
    assert v.value.validation_errors == ["products[0].quantity: must be > 0"]
    with pytest.raises(m.ApiResponseError) as api:
        _native._raise_error_kind(8)
    assert api.value.response_data == {"isError": True}
    assert api.value.status_code == 200
    with pytest.raises(m.NetworkError) as net:
        _native._raise_error_kind(6)
    assert net.value.status_code == 503


def test_same_class_objects_from_both_modules():
    for name in errors.__all__:
        assert getattr(m, name) is getattr(errors, name)


def test_unknown_kind_is_invalid_argument():
    from magflow_emag import _native

    with pytest.raises(m.InvalidArgumentError):
        _native._raise_error_kind(99)
