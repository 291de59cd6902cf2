//! Reference codes of the eMAG Marketplace API v4.4.9: order statuses, payment modes, order
//! types, delivery modes, attachment types, RMA statuses, every cancellation reason (English and
//! Romanian) and the order status transition matrix with its conditions.
//!
//! The project keeps its own copy of these facts (it never reads the shared reference at run time).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A language for human-readable texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (the documentation's wording).
    En,
    /// Romanian.
    Ro,
}

impl Lang {
    /// The short code, `"en"` or `"ro"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ro => "ro",
        }
    }
}

impl FromStr for Lang {
    type Err = Error;

    /// Accepts `en`/`ro` in any case, and locale forms such as `en_GB` or `ro-RO`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let primary = s
            .split(['_', '-'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Ok(Lang::En),
            "ro" => Ok(Lang::Ro),
            _ => Err(Error::invalid_argument(format!(
                "unknown language {s:?}: expected \"en\" or \"ro\""
            ))),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A numeric code with its English and Romanian texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeText {
    /// The code as eMAG sends it.
    pub code: i64,
    /// English text.
    pub en: &'static str,
    /// Romanian text.
    pub ro: &'static str,
}

impl CodeText {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ro => self.ro,
        }
    }
}

fn find(table: &'static [CodeText], code: i64) -> Option<&'static CodeText> {
    table.iter().find(|c| c.code == code)
}

/// Every cancellation reason of API v4.4.9 (`reason_cancellation`): codes 1-3 and 15-43.
pub const CANCELLATION_REASONS: [CodeText; 32] = [
    CodeText { code: 1, en: "Out of stock", ro: "Lipsă stoc" },
    CodeText { code: 2, en: "Cancelled by the client", ro: "Anulată de client" },
    CodeText { code: 3, en: "The client cannot be contacted", ro: "Clientul nu poate fi contactat" },
    CodeText { code: 15, en: "Courier delivery term is too large", ro: "Termenul de livrare prin curier este prea mare" },
    CodeText { code: 16, en: "Transport tax is too large", ro: "Taxa de transport este prea mare" },
    CodeText { code: 17, en: "Large delivery term, until the product will arrive in our warehouse", ro: "Termen de livrare prea mare până la sosirea produsului în depozitul nostru" },
    CodeText { code: 18, en: "Better offer in another store", ro: "Ofertă mai bună în alt magazin" },
    CodeText { code: 19, en: "Payment order has not been paid", ro: "Ordinul de plată nu a fost achitat" },
    CodeText { code: 20, en: "Undelivered order, courier reasons", ro: "Comandă nelivrată din motive ținând de curier" },
    CodeText { code: 21, en: "Others", ro: "Altele" },
    CodeText { code: 22, en: "Order incomplete - automatic cancellation", ro: "Comandă incompletă – anulare automată" },
    CodeText { code: 23, en: "The customer changed his mind", ro: "Clientul s-a răzgândit" },
    CodeText { code: 24, en: "By customer request", ro: "La cererea clientului" },
    CodeText { code: 25, en: "Failed delivery", ro: "Livrare eșuată" },
    CodeText { code: 26, en: "Late shipment", ro: "Expediere întârziată" },
    CodeText { code: 27, en: "Irrelevant order", ro: "Comandă irelevantă" },
    CodeText { code: 28, en: "Canceled by SuperAdmin on seller request", ro: "Anulată de SuperAdmin la cererea vânzătorului" },
    CodeText { code: 29, en: "Blacklisted customer", ro: "Client aflat pe lista neagră" },
    CodeText { code: 30, en: "No VAT invoice", ro: "Fără factură cu TVA" },
    CodeText { code: 31, en: "The eMAG Marketplace partner requested the order cancellation", ro: "Partenerul eMAG Marketplace a solicitat anularea comenzii" },
    CodeText { code: 32, en: "The delivery estimate is too long", ro: "Termenul estimat de livrare este prea lung" },
    CodeText { code: 33, en: "The product is no longer available in the stock of the eMAG Marketplace partner", ro: "Produsul nu mai este disponibil în stocul partenerului eMAG Marketplace" },
    CodeText { code: 34, en: "Other reasons", ro: "Alte motive" },
    CodeText { code: 35, en: "The delivery is too expensive", ro: "Livrarea este prea scumpă" },
    CodeText { code: 36, en: "The customer found a better price elsewhere", ro: "Clientul a găsit un preț mai bun în altă parte" },
    CodeText { code: 37, en: "The customer registered another eMAG order with a similar product", ro: "Clientul a plasat o altă comandă eMAG cu un produs similar" },
    CodeText { code: 38, en: "The customer changed his mind, does not need the product", ro: "Clientul s-a răzgândit și nu mai are nevoie de produs" },
    CodeText { code: 39, en: "The customer can purchase the product only by installments", ro: "Clientul poate cumpăra produsul doar în rate" },
    CodeText { code: 40, en: "Other reasons EIS", ro: "Alte motive (EIS)" },
    CodeText { code: 41, en: "Out of stock - instalments", ro: "Lipsă stoc – cumpărare în rate" },
    CodeText { code: 42, en: "The product is no longer available in the stock of the eMAG Marketplace partner - instalments", ro: "Produsul nu mai este disponibil în stocul partenerului eMAG Marketplace – cumpărare în rate" },
    CodeText { code: 43, en: "The delivery estimate is too long", ro: "Termenul estimat de livrare este prea lung" },
];

/// Order statuses 0-5.
pub const ORDER_STATUSES: [CodeText; 6] = [
    CodeText {
        code: 0,
        en: "Canceled",
        ro: "Anulată",
    },
    CodeText {
        code: 1,
        en: "New",
        ro: "Nouă",
    },
    CodeText {
        code: 2,
        en: "In progress",
        ro: "În procesare",
    },
    CodeText {
        code: 3,
        en: "Prepared",
        ro: "Pregătită",
    },
    CodeText {
        code: 4,
        en: "Finalized",
        ro: "Finalizată",
    },
    CodeText {
        code: 5,
        en: "Returned",
        ro: "Returnată",
    },
];

/// Payment modes 1-3 (`payment_mode_id`).
pub const PAYMENT_MODES: [CodeText; 3] = [
    CodeText {
        code: 1,
        en: "Cash on delivery (COD)",
        ro: "Ramburs (plata la livrare)",
    },
    CodeText {
        code: 2,
        en: "Bank transfer",
        ro: "Transfer bancar",
    },
    CodeText {
        code: 3,
        en: "Online card payment",
        ro: "Plată online cu cardul",
    },
];

/// Order types: 2 fulfilled by eMAG, 3 fulfilled by the seller.
pub const ORDER_TYPES: [CodeText; 2] = [
    CodeText {
        code: 2,
        en: "Fulfilled by eMAG",
        ro: "Onorată de eMAG",
    },
    CodeText {
        code: 3,
        en: "Fulfilled by seller",
        ro: "Onorată de vânzător",
    },
];

/// Delivery modes (`delivery_mode`), keyed by their string code.
pub const DELIVERY_MODES: [(&str, &str, &str); 2] = [
    (
        "courier",
        "Home delivery by courier",
        "Livrare la domiciliu prin curier",
    ),
    (
        "pickup",
        "Locker (pickup point) delivery",
        "Livrare la locker (punct de ridicare)",
    ),
];

/// Order attachment types (`order/attachments/save` `type`).
pub const ATTACHMENT_TYPES: [CodeText; 6] = [
    CodeText {
        code: 1,
        en: "Invoice",
        ro: "Factură",
    },
    CodeText {
        code: 3,
        en: "Warranty",
        ro: "Certificat de garanție",
    },
    CodeText {
        code: 4,
        en: "User manual",
        ro: "Manual de utilizare",
    },
    CodeText {
        code: 8,
        en: "User guide",
        ro: "Ghid de utilizare",
    },
    CodeText {
        code: 10,
        en: "AWB",
        ro: "AWB",
    },
    CodeText {
        code: 11,
        en: "Proforma invoice",
        ro: "Factură proformă",
    },
];

/// Return request (RMA) statuses 1-7.
pub const RMA_STATUSES: [CodeText; 7] = [
    CodeText {
        code: 1,
        en: "Incomplete",
        ro: "Incompletă",
    },
    CodeText {
        code: 2,
        en: "New",
        ro: "Nouă",
    },
    CodeText {
        code: 3,
        en: "Acknowledged",
        ro: "Confirmată",
    },
    CodeText {
        code: 4,
        en: "Refused",
        ro: "Refuzată",
    },
    CodeText {
        code: 5,
        en: "Canceled",
        ro: "Anulată",
    },
    CodeText {
        code: 6,
        en: "Received",
        ro: "Recepționată",
    },
    CodeText {
        code: 7,
        en: "Finalized",
        ro: "Finalizată",
    },
];

/// The set of valid `reason_cancellation` codes: {1, 2, 3} ∪ {15..=43}.
pub fn is_valid_cancellation_reason(code: i64) -> bool {
    matches!(code, 1..=3 | 15..=43)
}

/// The text of a cancellation reason, or `None` for a code that does not exist.
pub fn cancellation_reason(code: i64, lang: Lang) -> Option<&'static str> {
    find(&CANCELLATION_REASONS, code).map(|c| c.text(lang))
}

/// The text of a cancellation reason; an unknown code gives
/// `"Unknown reason (code: N)"` (English) or `"Motiv necunoscut (cod: N)"` (Romanian).
pub fn cancellation_reason_text(code: i64, lang: Lang) -> String {
    match cancellation_reason(code, lang) {
        Some(text) => text.to_owned(),
        None => match lang {
            Lang::En => format!("Unknown reason (code: {code})"),
            Lang::Ro => format!("Motiv necunoscut (cod: {code})"),
        },
    }
}

/// The text of an order status; unknown codes give "Unknown status (code: N)".
pub fn order_status_text(code: i64, lang: Lang) -> String {
    match find(&ORDER_STATUSES, code) {
        Some(c) => c.text(lang).to_owned(),
        None => match lang {
            Lang::En => format!("Unknown status (code: {code})"),
            Lang::Ro => format!("Status necunoscut (cod: {code})"),
        },
    }
}

/// The text of a payment mode; unknown codes give "Unknown payment mode (code: N)".
pub fn payment_mode_text(code: i64, lang: Lang) -> String {
    match find(&PAYMENT_MODES, code) {
        Some(c) => c.text(lang).to_owned(),
        None => match lang {
            Lang::En => format!("Unknown payment mode (code: {code})"),
            Lang::Ro => format!("Mod de plată necunoscut (cod: {code})"),
        },
    }
}

/// The text of an order type; unknown codes give "Unknown order type (code: N)".
pub fn order_type_text(code: i64, lang: Lang) -> String {
    match find(&ORDER_TYPES, code) {
        Some(c) => c.text(lang).to_owned(),
        None => match lang {
            Lang::En => format!("Unknown order type (code: {code})"),
            Lang::Ro => format!("Tip de comandă necunoscut (cod: {code})"),
        },
    }
}

/// The text of an RMA status, if the code exists.
pub fn rma_status(code: i64, lang: Lang) -> Option<&'static str> {
    find(&RMA_STATUSES, code).map(|c| c.text(lang))
}

/// The text of an attachment type, if the code exists.
pub fn attachment_type(code: i64, lang: Lang) -> Option<&'static str> {
    find(&ATTACHMENT_TYPES, code).map(|c| c.text(lang))
}

/// The text of a delivery mode (`"courier"` or `"pickup"`), if it exists.
pub fn delivery_mode(code: &str, lang: Lang) -> Option<&'static str> {
    DELIVERY_MODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, en, ro)| match lang {
            Lang::En => *en,
            Lang::Ro => *ro,
        })
}

/// Order statuses as named values (the wire form is the integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum OrderStatus {
    /// 0: canceled.
    Canceled = 0,
    /// 1: new, not yet acknowledged.
    New = 1,
    /// 2: in progress (reached only through acknowledge).
    InProgress = 2,
    /// 3: prepared.
    Prepared = 3,
    /// 4: finalized (set by the first AWB).
    Finalized = 4,
    /// 5: returned.
    Returned = 5,
}

impl OrderStatus {
    /// All statuses in code order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Canceled,
        OrderStatus::New,
        OrderStatus::InProgress,
        OrderStatus::Prepared,
        OrderStatus::Finalized,
        OrderStatus::Returned,
    ];

    /// The status for a wire code, if it exists.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as i64 == code)
    }

    /// The wire code.
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// Whether, and under which condition, an order may move from one status to another
/// through `order/save` (the matrix of the documentation, §10.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransitionRule {
    /// Not allowed.
    No,
    /// Allowed.
    Yes,
    /// Only through `order/acknowledge/{id}` (1 -> 2), never through `order/save`.
    AckOnly,
    /// Allowed within 48 hours of finalization (from 4) or cancellation (from 0).
    Within48h,
    /// Allowed within the customer's return time plus 5 days (4 -> 5).
    WithinReturnTimePlus5Days,
}

impl TransitionRule {
    /// Every rule.
    pub const ALL: [TransitionRule; 5] = [
        TransitionRule::No,
        TransitionRule::Yes,
        TransitionRule::AckOnly,
        TransitionRule::Within48h,
        TransitionRule::WithinReturnTimePlus5Days,
    ];

    /// The stable string form: `"no" | "yes" | "ack_only" | "within_48h" |
    /// "within_return_time_plus_5_days"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionRule::No => "no",
            TransitionRule::Yes => "yes",
            TransitionRule::AckOnly => "ack_only",
            TransitionRule::Within48h => "within_48h",
            TransitionRule::WithinReturnTimePlus5Days => "within_return_time_plus_5_days",
        }
    }
}

impl fmt::Display for TransitionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The order status transition rule from `from` to `to`.
pub fn order_transition(from: OrderStatus, to: OrderStatus) -> TransitionRule {
    use OrderStatus::*;
    use TransitionRule::*;
    match (from, to) {
        (New, InProgress) => AckOnly,
        (New, _) => No,
        (InProgress, Canceled | InProgress | Prepared | Finalized) => Yes,
        (InProgress, _) => No,
        (Prepared, Canceled | Prepared | Finalized) => Yes,
        (Prepared, _) => No,
        (Finalized, Finalized) => Yes,
        (Finalized, Prepared | Canceled) => Within48h,
        (Finalized, Returned) => WithinReturnTimePlus5Days,
        (Finalized, _) => No,
        (Canceled, Canceled) => Yes,
        (Canceled, InProgress | Prepared | Finalized) => Within48h,
        (Canceled, _) => No,
        (Returned, _) => No,
    }
}

/// The transition rule between two wire status codes; an unknown code is an invalid argument.
pub fn transition_rule(from: i64, to: i64) -> Result<TransitionRule, Error> {
    let parse = |code: i64, which: &str| {
        OrderStatus::from_code(code).ok_or_else(|| {
            Error::invalid_argument(format!("unknown {which} order status {code}: expected 0-5"))
        })
    };
    Ok(order_transition(parse(from, "from")?, parse(to, "to")?))
}

/// Whether an RMA may move from `from` to `to` (documentation §12.3; status 1 is never set by sellers).
pub fn rma_transition_allowed(from: i64, to: i64) -> bool {
    matches!(
        (from, to),
        (2, 2)
            | (2, 3)
            | (2, 5)
            | (3, 3)
            | (3, 5)
            | (3, 6)
            | (4, 4)
            | (5, 5)
            | (6, 4)
            | (6, 6)
            | (6, 7)
            | (7, 7)
    )
}
