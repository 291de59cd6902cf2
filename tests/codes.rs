//! Reference codes: every cancellation reason in both languages, unknown codes, the full
//! 6x6 transition matrix.

use magflow_emag::codes::{self, Lang, OrderStatus, TransitionRule};
use magflow_emag::ErrorKind;

#[test]
fn cancellation_reasons_are_exactly_the_32_documented_codes() {
    let codes: Vec<i64> = codes::CANCELLATION_REASONS.iter().map(|r| r.code).collect();
    let expected: Vec<i64> = (1..=3).chain(15..=43).collect();
    assert_eq!(codes, expected);
    assert_eq!(codes.len(), 32);
    for code in -5..=100 {
        assert_eq!(
            codes::is_valid_cancellation_reason(code),
            expected.contains(&code),
            "code {code}"
        );
    }
}

#[test]
fn every_reason_has_an_english_and_a_romanian_text() {
    for reason in codes::CANCELLATION_REASONS.iter() {
        for lang in [Lang::En, Lang::Ro] {
            let text = codes::cancellation_reason_text(reason.code, lang);
            assert!(!text.trim().is_empty(), "code {} {lang}", reason.code);
            assert!(!text.contains("Unknown"), "code {} {lang}", reason.code);
            assert!(!text.contains("necunoscut"), "code {} {lang}", reason.code);
        }
        assert_ne!(
            reason.en, reason.ro,
            "code {} is not translated",
            reason.code
        );
    }
}

#[test]
fn known_texts_match_the_documentation() {
    let cases = [
        (1, "Out of stock", "Lipsă stoc"),
        (2, "Cancelled by the client", "Anulată de client"),
        (
            15,
            "Courier delivery term is too large",
            "Termenul de livrare prin curier este prea mare",
        ),
        (
            31,
            "The eMAG Marketplace partner requested the order cancellation",
            "Partenerul eMAG Marketplace a solicitat anularea comenzii",
        ),
        (
            39,
            "The customer can purchase the product only by installments",
            "Clientul poate cumpăra produsul doar în rate",
        ),
        (40, "Other reasons EIS", "Alte motive (EIS)"),
        (
            41,
            "Out of stock - instalments",
            "Lipsă stoc – cumpărare în rate",
        ),
        (
            43,
            "The delivery estimate is too long",
            "Termenul estimat de livrare este prea lung",
        ),
    ];
    for (code, en, ro) in cases {
        assert_eq!(codes::cancellation_reason_text(code, Lang::En), en);
        assert_eq!(codes::cancellation_reason_text(code, Lang::Ro), ro);
    }
}

#[test]
fn unknown_codes_have_a_stable_text() {
    for code in [0, 4, 14, 44, 999, -1] {
        assert_eq!(codes::cancellation_reason(code, Lang::En), None);
        assert_eq!(
            codes::cancellation_reason_text(code, Lang::En),
            format!("Unknown reason (code: {code})")
        );
        assert_eq!(
            codes::cancellation_reason_text(code, Lang::Ro),
            format!("Motiv necunoscut (cod: {code})")
        );
    }
}

#[test]
fn languages_parse_and_unknown_ones_are_invalid_arguments() {
    assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
    assert_eq!("RO".parse::<Lang>().unwrap(), Lang::Ro);
    assert_eq!("ro_RO".parse::<Lang>().unwrap(), Lang::Ro);
    assert_eq!("en-GB".parse::<Lang>().unwrap(), Lang::En);
    for bad in ["", "de", "english", "xx_RO"] {
        let err = bad.parse::<Lang>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
}

#[test]
fn status_payment_and_type_texts() {
    assert_eq!(codes::order_status_text(0, Lang::En), "Canceled");
    assert_eq!(codes::order_status_text(4, Lang::Ro), "Finalizată");
    assert_eq!(
        codes::order_status_text(9, Lang::En),
        "Unknown status (code: 9)"
    );
    assert_eq!(
        codes::payment_mode_text(1, Lang::En),
        "Cash on delivery (COD)"
    );
    assert_eq!(
        codes::payment_mode_text(3, Lang::Ro),
        "Plată online cu cardul"
    );
    assert_eq!(
        codes::payment_mode_text(7, Lang::En),
        "Unknown payment mode (code: 7)"
    );
    assert_eq!(codes::order_type_text(2, Lang::En), "Fulfilled by eMAG");
    assert_eq!(codes::order_type_text(3, Lang::En), "Fulfilled by seller");
    assert_eq!(
        codes::delivery_mode("pickup", Lang::En),
        Some("Locker (pickup point) delivery")
    );
    assert_eq!(codes::attachment_type(3, Lang::En), Some("Warranty"));
    assert_eq!(codes::attachment_type(2, Lang::En), None);
    assert_eq!(codes::rma_status(6, Lang::En), Some("Received"));
}

#[test]
fn the_full_6x6_transition_matrix() {
    // Rows: current status; columns: requested status, both in the order 1, 2, 3, 4, 0, 5
    // (the documentation's layout, §10.8).
    let order = [1, 2, 3, 4, 0, 5];
    let matrix = [
        ["no", "ack_only", "no", "no", "no", "no"],
        ["no", "yes", "yes", "yes", "yes", "no"],
        ["no", "no", "yes", "yes", "yes", "no"],
        [
            "no",
            "no",
            "within_48h",
            "yes",
            "within_48h",
            "within_return_time_plus_5_days",
        ],
        ["no", "within_48h", "within_48h", "within_48h", "yes", "no"],
        ["no", "no", "no", "no", "no", "no"],
    ];
    for (row, from) in order.iter().enumerate() {
        for (col, to) in order.iter().enumerate() {
            let rule = codes::transition_rule(*from, *to).unwrap();
            assert_eq!(rule.as_str(), matrix[row][col], "{from} -> {to}");
        }
    }
    assert_eq!(
        codes::order_transition(OrderStatus::New, OrderStatus::InProgress),
        TransitionRule::AckOnly
    );
}

#[test]
fn transition_with_unknown_status_is_an_invalid_argument() {
    for (from, to) in [(6, 1), (1, -1), (99, 99)] {
        let err = codes::transition_rule(from, to).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("order status"), "{}", err.message());
    }
}

#[test]
fn rma_matrix_never_allows_status_1() {
    for from in 1..=7 {
        assert!(!codes::rma_transition_allowed(from, 1));
    }
    assert!(codes::rma_transition_allowed(3, 6));
    assert!(!codes::rma_transition_allowed(7, 6));
}
