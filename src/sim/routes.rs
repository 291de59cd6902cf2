//! Routing: which documented paths the simulator serves, and with which method.

pub(super) struct Route {
    /// `order`, `order/attachments`, `product_offer`, ...
    pub(super) resource: String,
    /// `read`, `save`, `acknowledge`, `unlock-courier`, `patch` (offer_stock), ...
    pub(super) action: String,
    /// The id in `order/acknowledge/{id}`, `order/{id}/unlock-courier`, `offer_stock/{id}`.
    pub(super) id: Option<String>,
    pub(super) kind: RouteKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum RouteKind {
    /// A POST resource/action route the simulator implements.
    Simulated,
    /// Documented but not simulated: answered `isError: true`, "not simulated".
    NotSimulated,
    /// `offer_stock/{id}` (PATCH).
    OfferStock,
    /// Nothing documented here.
    Unknown,
}

const SIMULATED: &[(&str, &[&str])] = &[
    (
        "order",
        &["read", "count", "save", "acknowledge", "unlock-courier"],
    ),
    ("order/attachments", &["save"]),
    ("product_offer", &["read", "count", "save"]),
    ("offer", &["save"]),
    ("measurements", &["save"]),
    ("category", &["read", "count"]),
    ("vat", &["read"]),
    ("handling_time", &["read"]),
    ("locality", &["read", "count"]),
    ("courier_accounts", &["read"]),
    ("addresses", &["read"]),
    ("awb", &["read", "save"]),
    ("rma", &["read", "count", "save"]),
];

const NOT_SIMULATED: &[(&str, &[&str])] = &[
    ("campaign_proposals", &["save"]),
    ("message", &["read", "save", "count"]),
    ("awb", &["read_pdf", "read_zpl"]),
    ("invoice/categories", &["read"]),
    ("invoice", &["read"]),
    ("customer-invoice", &["read"]),
    ("smart-deals-price-check", &[""]),
    ("documentation/find_by_eans", &[""]),
];

fn known(table: &[(&str, &[&str])], resource: &str, action: &str) -> bool {
    table
        .iter()
        .any(|(r, actions)| *r == resource && actions.contains(&action))
}

pub(super) fn parse_route(path: &str) -> Route {
    let unknown = || Route {
        resource: String::new(),
        action: String::new(),
        id: None,
        kind: RouteKind::Unknown,
    };
    let Some(rest) = path.strip_prefix("/api-3/") else {
        return unknown();
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let is_id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (resource, action, id) = match segs.as_slice() {
        ["order", "acknowledge", id] if is_id(id) => {
            ("order".to_owned(), "acknowledge".to_owned(), Some(*id))
        }
        ["order", id, "unlock-courier"] if is_id(id) => {
            ("order".to_owned(), "unlock-courier".to_owned(), Some(*id))
        }
        ["offer_stock", id] if !id.is_empty() => {
            return Route {
                resource: "offer_stock".into(),
                action: "patch".into(),
                id: Some((*id).to_owned()),
                kind: RouteKind::OfferStock,
            }
        }
        [a, b, action] => (format!("{a}/{b}"), (*action).to_owned(), None),
        [resource, action] => ((*resource).to_owned(), (*action).to_owned(), None),
        [resource] => ((*resource).to_owned(), String::new(), None),
        _ => return unknown(),
    };
    // `documentation/find_by_eans` has no action segment of its own.
    let (resource, action) = if resource == "documentation" && action == "find_by_eans" {
        ("documentation/find_by_eans".to_owned(), String::new())
    } else {
        (resource, action)
    };
    let kind = if (action == "acknowledge" || action == "unlock-courier") && id.is_none() {
        RouteKind::Unknown
    } else if known(SIMULATED, &resource, &action) {
        RouteKind::Simulated
    } else if known(NOT_SIMULATED, &resource, &action) {
        RouteKind::NotSimulated
    } else {
        RouteKind::Unknown
    };
    Route {
        resource,
        action,
        id: id.map(str::to_owned),
        kind,
    }
}

impl Route {
    /// The key of `stats()["routes"]`.
    pub(super) fn key(&self) -> String {
        match self.kind {
            RouteKind::Unknown => "unknown".to_owned(),
            RouteKind::OfferStock => "offer_stock".to_owned(),
            _ if self.action.is_empty() => self.resource.clone(),
            _ => format!("{}/{}", self.resource, self.action),
        }
    }

    pub(super) fn allows(&self, method: &hyper::Method) -> bool {
        use hyper::Method;
        match self.kind {
            RouteKind::OfferStock => method == Method::PATCH,
            RouteKind::Unknown => true,
            _ => match (self.resource.as_str(), self.action.as_str()) {
                ("smart-deals-price-check", _)
                | ("documentation/find_by_eans", _)
                | ("awb", "read_pdf") => method == Method::GET,
                ("awb", "read_zpl") => method == Method::GET || method == Method::POST,
                _ => method == Method::POST,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = parse_route("/api-3/order/read");
        assert!(r.kind == RouteKind::Simulated && r.key() == "order/read");
        let r = parse_route("/api-3/order/acknowledge/123");
        assert!(r.kind == RouteKind::Simulated && r.id.as_deref() == Some("123"));
        let r = parse_route("/api-3/order/123/unlock-courier");
        assert!(r.kind == RouteKind::Simulated && r.action == "unlock-courier");
        assert!(parse_route("/api-3/order/attachments/save").kind == RouteKind::Simulated);
        assert!(parse_route("/api-3/offer_stock/5").kind == RouteKind::OfferStock);
        assert!(parse_route("/api-3/invoice/read").kind == RouteKind::NotSimulated);
        assert!(parse_route("/api-3/documentation/find_by_eans").kind == RouteKind::NotSimulated);
        assert!(parse_route("/api-3/nope/read").kind == RouteKind::Unknown);
        assert!(parse_route("/other").kind == RouteKind::Unknown);
        assert!(parse_route("/api-3/order/acknowledge").kind == RouteKind::Unknown);
    }
}
