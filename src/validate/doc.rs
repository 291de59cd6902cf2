//! The read-only document model the validators walk: [`Doc`], implemented here for
//! `serde_json::Value` and by the Python binding for Python objects, so a Python dict is
//! validated in place instead of being converted to JSON first.
//!
//! Keys are a closed set ([`Key`]): the binding caches one Python string per key (interned,
//! with its hash) and the JSON implementation finds a whole group of keys ([`Fields`]) in one
//! pass over an object's entries, which is several times cheaper than one hashed lookup per
//! key with `serde_json`'s map.

use serde_json::Value;

/// The shape of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// JSON `null`, Python `None`.
    Null,
    /// A boolean.
    Bool,
    /// An integer (of any size: [`Doc::as_i64`] says whether it fits `i64`).
    Int,
    /// A floating-point number.
    Float,
    /// A string.
    Str,
    /// A list (Python: list or tuple).
    List,
    /// An object (Python: dict).
    Map,
    /// Anything else (a Python object of another type).
    Other,
}

/// A read-only view of one value of a document. Implementations convert types and nothing
/// else: every rule (and every leniency, such as numbers sent as strings) lives in the
/// validators.
pub trait Doc: Sized + Clone {
    /// The shape of this value.
    fn kind(&self) -> Kind;

    /// The member `key` of an object; `None` when absent or when this is not an object.
    /// A member that is present but null is `Some` of a [`Kind::Null`] value.
    fn get(&self, key: Key) -> Option<Self>;

    /// The members `fields` of an object, in the order of `fields`. The default asks
    /// [`Doc::get`] once per key; implementations may do one pass instead.
    fn gather<const N: usize>(&self, fields: &Fields<N>) -> [Option<Self>; N] {
        std::array::from_fn(|j| self.get(fields.keys[j]))
    }

    /// The number of items of a list (0 for anything else).
    fn list_len(&self) -> usize;

    /// Item `index` of a list.
    fn item(&self, index: usize) -> Option<Self>;

    /// An integer that fits `i64` (not a bool, a float or a string).
    fn as_i64(&self) -> Option<i64>;

    /// An integer or a float as `f64` (not a bool or a string).
    fn as_f64(&self) -> Option<f64>;

    /// A boolean.
    fn as_bool(&self) -> Option<bool>;

    /// Call `f` with the text of a string.
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R>;

    /// Call `f` with every key of an object (nothing for other values).
    fn for_each_key(&self, f: &mut dyn FnMut(&str));

    /// The name of the value's type when it is [`Kind::Other`] (for messages).
    fn type_name(&self) -> Option<String> {
        None
    }
}

macro_rules! keys {
    ($($variant:ident = $name:literal,)*) => {
        /// Every key a validator reads. A binding may cache one native string per key,
        /// indexed by `key as usize`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum Key {
            $($variant,)*
        }

        impl Key {
            /// Every key, in `key as usize` order.
            pub const ALL: &'static [Key] = &[$(Key::$variant,)*];

            /// The key as it appears in eMAG's documents.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => $name,)*
                }
            }
        }
    };
}

keys! {
    Id = "id",
    Status = "status",
    PaymentModeId = "payment_mode_id",
    Type = "type",
    Products = "products",
    Customer = "customer",
    PaymentStatus = "payment_status",
    Date = "date",
    Modified = "modified",
    Created = "created",
    Vouchers = "vouchers",
    ShippingTaxVoucherSplit = "shipping_tax_voucher_split",
    ReasonCancellation = "reason_cancellation",
    CancellationReason = "cancellation_reason",
    IsStorno = "is_storno",
    IsComplete = "is_complete",
    DeliveryMode = "delivery_mode",
    ShippingTax = "shipping_tax",
    ProductId = "product_id",
    Quantity = "quantity",
    SalePrice = "sale_price",
    Vat = "vat",
    ProductVoucherSplit = "product_voucher_split",
    PartNumber = "part_number",
    ExtPartNumber = "ext_part_number",
    Name = "name",
    Phone1Underscore = "phone_1",
    Phone1 = "phone1",
    Phone2 = "phone2",
    Email = "email",
    VoucherId = "voucher_id",
    Value = "value",
    VatValue = "vat_value",
    SalePriceVat = "sale_price_vat",
    IssueDate = "issue_date",
    CategoryId = "category_id",
    VendorCategoryId = "vendor_category_id",
    PartNumberKey = "part_number_key",
    SourceLanguage = "source_language",
    Description = "description",
    Brand = "brand",
    ForceImagesDownload = "force_images_download",
    Images = "images",
    DisplayType = "display_type",
    Url = "url",
    ImagesOverwrite = "images_overwrite",
    Characteristics = "characteristics",
    Tag = "tag",
    Family = "family",
    FamilyTypeId = "family_type_id",
    Warranty = "warranty",
    Ean = "ean",
    Attachments = "attachments",
    RecommendedPrice = "recommended_price",
    MinSalePrice = "min_sale_price",
    MaxSalePrice = "max_sale_price",
    CurrencyType = "currency_type",
    Stock = "stock",
    WarehouseId = "warehouse_id",
    HandlingTime = "handling_time",
    SupplyLeadTime = "supply_lead_time",
    StartDate = "start_date",
    VatId = "vat_id",
    EmagClub = "emag_club",
    SafetyInformation = "safety_information",
    Manufacturer = "manufacturer",
    EuRepresentative = "eu_representative",
    Address = "address",
    GreenTax = "green_tax",
    OrderId = "order_id",
    RmaId = "rma_id",
    Sender = "sender",
    Receiver = "receiver",
    LockerId = "locker_id",
    IsOversize = "is_oversize",
    InsuredValue = "insured_value",
    Weight = "weight",
    EnvelopeNumber = "envelope_number",
    ParcelNumber = "parcel_number",
    Observation = "observation",
    Cod = "cod",
    CourierAccountId = "courier_account_id",
    PickupAndReturn = "pickup_and_return",
    SaturdayDelivery = "saturday_delivery",
    SamedayDelivery = "sameday_delivery",
    DropoffLocker = "dropoff_locker",
    Unboxing = "unboxing",
    Contact = "contact",
    LegalEntity = "legal_entity",
    AddressId = "address_id",
    LocalityId = "locality_id",
    Street = "street",
    Zipcode = "zipcode",
}

/// Longest key name [`Fields`] indexes (longer ones are compared one by one).
const MAX_KEY_LEN: usize = 31;

/// A group of keys read together from one object (at most 32), with a by-length index so an
/// implementation can match an object's entries against the whole group in one pass: an
/// entry whose length no key has is skipped without reading its bytes.
#[derive(Debug, Clone)]
pub struct Fields<const N: usize> {
    keys: [Key; N],
    names: [&'static str; N],
    by_len: [u32; MAX_KEY_LEN + 1],
}

impl<const N: usize> Fields<N> {
    /// A group of keys (built at compile time; panics at compile time beyond 32 keys or for
    /// a key longer than 31 bytes).
    pub const fn new(keys: [Key; N]) -> Self {
        assert!(N <= 32, "at most 32 keys per group");
        let mut names = [""; N];
        let mut by_len = [0u32; MAX_KEY_LEN + 1];
        let mut j = 0;
        while j < N {
            let name = keys[j].name();
            assert!(name.len() <= MAX_KEY_LEN, "key too long");
            names[j] = name;
            by_len[name.len()] |= 1 << j;
            j += 1;
        }
        Fields {
            keys,
            names,
            by_len,
        }
    }

    /// The keys of the group.
    pub fn keys(&self) -> &[Key; N] {
        &self.keys
    }

    /// The members of the group among an object's `entries`, in one pass (a repeated key:
    /// the last one counts). For [`Doc::gather`] implementations.
    #[inline]
    pub fn gather<'k, V>(&self, entries: impl Iterator<Item = (&'k str, V)>) -> [Option<V>; N] {
        let mut out: [Option<V>; N] = std::array::from_fn(|_| None);
        for (k, v) in entries {
            if let Some(j) = self.position(k) {
                out[j] = Some(v);
            }
        }
        out
    }

    /// The position of `name` in the group, if it is one of its keys.
    #[inline(always)]
    pub fn position(&self, name: &str) -> Option<usize> {
        let mut mask = if name.len() <= MAX_KEY_LEN {
            self.by_len[name.len()]
        } else {
            return None;
        };
        while mask != 0 {
            let j = mask.trailing_zeros() as usize;
            if same_bytes(self.names[j].as_bytes(), name.as_bytes()) {
                return Some(j);
            }
            mask &= mask - 1;
        }
        None
    }
}

/// Equality of two byte strings of the same length, by overlapping word loads (short keys are
/// compared in one or two instructions instead of a call to `memcmp`).
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word8 = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let word4 = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a == b,
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => word8(a, 0) == word8(b, 0) && a[8..] == b[8..],
    }
}

impl Doc for &Value {
    #[inline]
    fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_f64() => Kind::Float,
            Value::Number(_) => Kind::Int,
            Value::String(_) => Kind::Str,
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Map,
        }
    }

    #[inline]
    fn get(&self, key: Key) -> Option<Self> {
        match self {
            Value::Object(m) => m.get(key.name()),
            _ => None,
        }
    }

    #[inline]
    fn gather<const N: usize>(&self, fields: &Fields<N>) -> [Option<Self>; N] {
        match self {
            Value::Object(m) => fields.gather(m.iter().map(|(k, v)| (k.as_str(), v))),
            _ => [None; N],
        }
    }

    #[inline]
    fn list_len(&self) -> usize {
        match self {
            Value::Array(a) => a.len(),
            _ => 0,
        }
    }

    #[inline]
    fn item(&self, index: usize) -> Option<Self> {
        match self {
            Value::Array(a) => a.get(index),
            _ => None,
        }
    }

    #[inline]
    fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    #[inline]
    fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    #[inline]
    fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    #[inline]
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match self {
            Value::String(s) => Some(f(s)),
            _ => None,
        }
    }

    fn for_each_key(&self, f: &mut dyn FnMut(&str)) {
        if let Value::Object(m) = self {
            for k in m.keys() {
                f(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_indices_follow_all() {
        for (i, k) in Key::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
        let mut names: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Key::ALL.len(), "duplicate key names");
    }

    #[test]
    fn gather_matches_get() {
        const F: Fields<4> = Fields::new([Key::Id, Key::Status, Key::Vat, Key::Quantity]);
        let v = json!({"status": 1, "id": 7, "x": 0, "quantity": null});
        let doc = &v;
        let got = doc.gather(&F);
        assert_eq!(got[0], Some(&json!(7)));
        assert_eq!(got[1], Some(&json!(1)));
        assert_eq!(got[2], None);
        assert_eq!(got[3], Some(&Value::Null));
        assert_eq!(F.position("vat"), Some(2));
        assert_eq!(F.position("vax"), None);
        assert_eq!(F.position("quantitx"), None);
        for k in Key::ALL {
            let f = Fields::new([*k]);
            assert_eq!(f.position(k.name()), Some(0), "{}", k.name());
            let mut other = k.name().to_owned().into_bytes();
            let last = other.len() - 1;
            other[last] ^= 1;
            assert_eq!(f.position(std::str::from_utf8(&other).unwrap()), None);
            other[last] ^= 1;
            other[0] ^= 1;
            assert_eq!(f.position(std::str::from_utf8(&other).unwrap()), None);
        }
        assert_eq!(
            F.position("a_key_that_is_much_longer_than_thirty_two"),
            None
        );
    }
}
