//! Static reference data for the generator and the catalogue routes: Romanian names, places,
//! streets, categories, brands, couriers, VAT rates. The two larger tables (places and
//! categories) are data files in `data/`, read once.

use std::sync::LazyLock;

pub(crate) const MALE_FIRST: &[&str] = &[
    "Andrei",
    "Alexandru",
    "Mihai",
    "Ion",
    "Gheorghe",
    "Vasile",
    "Constantin",
    "Florin",
    "Adrian",
    "Cristian",
    "Bogdan",
    "Ionut",
    "Marius",
    "Stefan",
    "Razvan",
    "Catalin",
    "Dan",
    "Radu",
    "Sorin",
    "Lucian",
    "Tudor",
    "Vlad",
    "Ovidiu",
    "Cosmin",
];
pub(crate) const FEMALE_FIRST: &[&str] = &[
    "Maria",
    "Elena",
    "Ioana",
    "Ana",
    "Andreea",
    "Alexandra",
    "Mihaela",
    "Cristina",
    "Gabriela",
    "Daniela",
    "Roxana",
    "Raluca",
    "Simona",
    "Georgiana",
    "Diana",
    "Alina",
    "Oana",
    "Camelia",
    "Bianca",
    "Irina",
    "Larisa",
    "Monica",
    "Corina",
    "Adina",
];
pub(crate) const LAST: &[&str] = &[
    "Popescu",
    "Ionescu",
    "Popa",
    "Pop",
    "Constantin",
    "Stan",
    "Dumitru",
    "Stoica",
    "Gheorghe",
    "Rusu",
    "Munteanu",
    "Matei",
    "Ciobanu",
    "Ionita",
    "Florea",
    "Dinu",
    "Marin",
    "Tudor",
    "Moldovan",
    "Barbu",
    "Nistor",
    "Lungu",
    "Dobre",
    "Mocanu",
    "Serban",
    "Radu",
    "Enache",
    "Voicu",
    "Neagu",
    "Oprea",
    "Lazar",
    "Craciun",
    "Toma",
    "Ene",
    "Vasile",
    "Diaconu",
];
pub(crate) const STREETS: &[&str] = &[
    "Str. Mihai Eminescu",
    "Bd. Unirii",
    "Str. Avram Iancu",
    "Calea Victoriei",
    "Str. Libertatii",
    "Bd. Independentei",
    "Str. Florilor",
    "Str. Republicii",
    "Str. Stefan cel Mare",
    "Str. Mihai Viteazu",
    "Bd. Revolutiei",
    "Str. Primaverii",
    "Aleea Teilor",
    "Str. Garii",
    "Calea Bucuresti",
    "Str. Nicolae Balcescu",
    "Str. Victoriei",
    "Bd. Decebal",
    "Str. Tudor Vladimirescu",
    "Str. Lalelelor",
];
pub(crate) const COMPANIES: &[&str] = &[
    "Tehnic Construct",
    "Agro Vest",
    "Nova Logistic",
    "Carpatica Trading",
    "Delta Soft",
    "Dacia Service",
    "Transilvania Impex",
    "Brio Design",
    "Romstal Partener",
    "Medis Pharma",
];
pub(crate) const BANKS: &[(&str, &str)] = &[
    ("Banca Transilvania", "BTRL"),
    ("BCR", "RNCB"),
    ("ING Bank", "INGB"),
    ("BRD", "BRDE"),
    ("Raiffeisen Bank", "RZBR"),
];
pub(crate) const PHONE_PREFIXES: &[&str] =
    &["072", "073", "074", "075", "076", "077", "078", "079"];

/// A locality: (emag_id, name, county (region2), country, zipcode, geoid).
pub(crate) struct Place {
    pub(crate) emag_id: i64,
    pub(crate) name: &'static str,
    pub(crate) county: &'static str,
    pub(crate) country: &'static str,
    pub(crate) zipcode: &'static str,
    pub(crate) county_code: &'static str,
}

/// The localities of `locality/read` and the generated addresses (`data/places.txt`).
pub(crate) static PLACES: LazyLock<Vec<Place>> = LazyLock::new(|| {
    rows(include_str!("data/places.txt"))
        .map(|f| Place {
            emag_id: number(f[0]),
            name: f[1],
            county: f[2],
            country: f[3],
            zipcode: f[4],
            county_code: f[5],
        })
        .collect()
});

/// Categories: (id, name, parent_id, noun used in product names, brands).
pub(crate) struct Category {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) parent_id: i64,
    pub(crate) noun: &'static str,
    pub(crate) brands: Vec<&'static str>,
    pub(crate) variants: Vec<&'static str>,
}

/// The catalogue's categories and what the generator names products after
/// (`data/categories.txt`).
pub(crate) static CATEGORIES: LazyLock<Vec<Category>> = LazyLock::new(|| {
    rows(include_str!("data/categories.txt"))
        .map(|f| Category {
            id: number(f[0]),
            name: f[1],
            parent_id: number(f[2]),
            noun: f[3],
            brands: f[4].split(';').collect(),
            variants: f[5].split(';').collect(),
        })
        .collect()
});

/// The rows of a data file: `|`-separated fields, six per row; `#` starts a comment line.
fn rows(text: &'static str) -> impl Iterator<Item = [&'static str; 6]> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut fields = l.split('|');
            std::array::from_fn(|_| fields.next().unwrap_or(""))
        })
}

/// A number of a data file (checked by the tests: a bad one reads 0).
fn number(field: &str) -> i64 {
    field.parse().unwrap_or(0)
}

/// Courier accounts: (account_id, display name, courier name, type, properties).
pub(crate) const COURIERS: &[(i64, &str, &str, i64, &[i64])] = &[
    (1001, "Sameday - cont principal", "SAMEDAY", 3, &[0, 2]),
    (1002, "FAN Courier", "FANCOURIER", 2, &[0, 6]),
    (1003, "Cargus retururi", "CARGUS", 1, &[0]),
];

/// VAT rates offered by `vat/read` (vat_id, rate, default) [unverified field names].
pub(crate) const VATS: &[(i64, f64, bool)] = &[
    (1, 0.21, true),
    (2, 0.11, false),
    (3, 0.0, false),
    (4, 0.19, false),
    (5, 0.09, false),
    (6, 0.05, false),
];

/// `validation_status` labels (spec §9.9).
pub(crate) fn validation_label(value: i64) -> &'static str {
    match value {
        0 => "Draft",
        1 => "In MKTP validation",
        2 => "Awaiting Brand validation",
        3 => "Waiting for EAN approval",
        4 => "New documentation validation pending",
        5 => "Rejected Brand",
        6 => "Invalid product - EAN rejected",
        8 => "Rejected Documentation",
        9 => "Approved documentation",
        10 => "Blocked",
        11 => "Update awaiting approval",
        12 => "Update rejected",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_read_whole() {
        assert_eq!(PLACES.len(), 40);
        assert_eq!(CATEGORIES.len(), 12);
        for p in PLACES.iter() {
            assert!(p.emag_id > 0 && !p.name.is_empty() && !p.county_code.is_empty());
        }
        for c in CATEGORIES.iter() {
            assert!(c.id > 0 && c.parent_id > 0 && !c.noun.is_empty());
            assert!(c.brands.iter().chain(&c.variants).all(|s| !s.is_empty()));
        }
    }
}
