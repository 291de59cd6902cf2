"""Reference codes through the Python binding."""

import pytest

import magflow_emag as m

DOCUMENTED = [1, 2, 3] + list(range(15, 44))


def test_version_is_the_crate_version():
    assert isinstance(m.__version__, str)
    assert m.__version__.count(".") == 2


def test_every_code_in_both_languages():
    en = m.cancellation_reasons("en")
    ro = m.cancellation_reasons("ro")
    assert sorted(en) == DOCUMENTED
    assert sorted(ro) == DOCUMENTED
    for code in DOCUMENTED:
        assert m.cancellation_reason_text(code) == en[code]
        assert m.cancellation_reason_text(code, "ro") == ro[code]
        assert en[code] != ro[code]
        assert m.is_valid_cancellation_reason(code)


def test_known_texts():
    assert m.cancellation_reason_text(1) == "Out of stock"
    assert m.cancellation_reason_text(43, "ro") == "Termenul estimat de livrare este prea lung"
    assert m.cancellation_reason_text(40, lang="en") == "Other reasons EIS"


@pytest.mark.parametrize("code", [0, 4, 14, 44, 999, -3])
def test_unknown_codes(code):
    assert m.cancellation_reason_text(code) == f"Unknown reason (code: {code})"
    assert m.cancellation_reason_text(code, "ro") == f"Motiv necunoscut (cod: {code})"
    assert not m.is_valid_cancellation_reason(code)


def test_unknown_language_is_a_value_error_and_an_emag_error():
    with pytest.raises(ValueError):
        m.cancellation_reason_text(1, "de")
    with pytest.raises(m.EmagApiError) as info:
        m.cancellation_reasons("xx")
    assert isinstance(info.value, m.InvalidArgumentError)
    assert "language" in info.value.message


def test_status_and_payment_texts():
    assert m.order_status_text(1) == "New"
    assert m.order_status_text(2, "ro") == "În procesare"
    assert m.payment_mode_text(1) == "Cash on delivery (COD)"
    assert m.payment_mode_text(2, "ro") == "Transfer bancar"
    assert m.order_type_text(3) == "Fulfilled by seller"


MATRIX = {
    1: {1: "no", 2: "ack_only", 3: "no", 4: "no", 0: "no", 5: "no"},
    2: {1: "no", 2: "yes", 3: "yes", 4: "yes", 0: "yes", 5: "no"},
    3: {1: "no", 2: "no", 3: "yes", 4: "yes", 0: "yes", 5: "no"},
    4: {1: "no", 2: "no", 3: "within_48h", 4: "yes", 0: "within_48h", 5: "within_return_time_plus_5_days"},
    0: {1: "no", 2: "within_48h", 3: "within_48h", 4: "within_48h", 0: "yes", 5: "no"},
    5: {1: "no", 2: "no", 3: "no", 4: "no", 0: "no", 5: "no"},
}


def test_full_transition_matrix():
    for frm, row in MATRIX.items():
        for to, rule in row.items():
            assert m.transition_rule(frm, to) == rule, (frm, to)


def test_transition_with_unknown_status():
    with pytest.raises(ValueError):
        m.transition_rule(7, 1)
