//! Static reference data for the generator and the catalogue routes: Romanian names, places,
//! streets, categories, brands, couriers, VAT rates.

pub(crate) const MALE_FIRST: &[&str] = &[
    "Andrei", "Alexandru", "Mihai", "Ion", "Gheorghe", "Vasile", "Constantin", "Florin", "Adrian",
    "Cristian", "Bogdan", "Ionut", "Marius", "Stefan", "Razvan", "Catalin", "Dan", "Radu",
    "Sorin", "Lucian", "Tudor", "Vlad", "Ovidiu", "Cosmin",
];
pub(crate) const FEMALE_FIRST: &[&str] = &[
    "Maria", "Elena", "Ioana", "Ana", "Andreea", "Alexandra", "Mihaela", "Cristina", "Gabriela",
    "Daniela", "Roxana", "Raluca", "Simona", "Georgiana", "Diana", "Alina", "Oana", "Camelia",
    "Bianca", "Irina", "Larisa", "Monica", "Corina", "Adina",
];
pub(crate) const LAST: &[&str] = &[
    "Popescu", "Ionescu", "Popa", "Pop", "Constantin", "Stan", "Dumitru", "Stoica", "Gheorghe",
    "Rusu", "Munteanu", "Matei", "Ciobanu", "Ionita", "Florea", "Dinu", "Marin", "Tudor",
    "Moldovan", "Barbu", "Nistor", "Lungu", "Dobre", "Mocanu", "Serban", "Radu", "Enache",
    "Voicu", "Neagu", "Oprea", "Lazar", "Craciun", "Toma", "Ene", "Vasile", "Diaconu",
];
pub(crate) const STREETS: &[&str] = &[
    "Str. Mihai Eminescu", "Bd. Unirii", "Str. Avram Iancu", "Calea Victoriei", "Str. Libertatii",
    "Bd. Independentei", "Str. Florilor", "Str. Republicii", "Str. Stefan cel Mare",
    "Str. Mihai Viteazu", "Bd. Revolutiei", "Str. Primaverii", "Aleea Teilor", "Str. Garii",
    "Calea Bucuresti", "Str. Nicolae Balcescu", "Str. Victoriei", "Bd. Decebal",
    "Str. Tudor Vladimirescu", "Str. Lalelelor",
];
pub(crate) const COMPANIES: &[&str] = &[
    "Tehnic Construct", "Agro Vest", "Nova Logistic", "Carpatica Trading", "Delta Soft",
    "Dacia Service", "Transilvania Impex", "Brio Design", "Romstal Partener", "Medis Pharma",
];
pub(crate) const BANKS: &[(&str, &str)] = &[
    ("Banca Transilvania", "BTRL"),
    ("BCR", "RNCB"),
    ("ING Bank", "INGB"),
    ("BRD", "BRDE"),
    ("Raiffeisen Bank", "RZBR"),
];
pub(crate) const PHONE_PREFIXES: &[&str] = &[
    "072", "073", "074", "075", "076", "077", "078", "079",
];

/// A locality: (emag_id, name, county (region2), country, zipcode, geoid).
pub(crate) struct Place {
    pub(crate) emag_id: i64,
    pub(crate) name: &'static str,
    pub(crate) county: &'static str,
    pub(crate) country: &'static str,
    pub(crate) zipcode: &'static str,
    pub(crate) county_code: &'static str,
}

macro_rules! place {
    ($id:expr, $name:expr, $county:expr, $country:expr, $zip:expr, $code:expr) => {
        Place {
            emag_id: $id,
            name: $name,
            county: $county,
            country: $country,
            zipcode: $zip,
            county_code: $code,
        }
    };
}

pub(crate) const PLACES: &[Place] = &[
    place!(8801, "Bucuresti, Sector 1", "Bucuresti", "RO", "010011", "B"),
    place!(8802, "Bucuresti, Sector 2", "Bucuresti", "RO", "020011", "B"),
    place!(8803, "Bucuresti, Sector 3", "Bucuresti", "RO", "030011", "B"),
    place!(8804, "Bucuresti, Sector 4", "Bucuresti", "RO", "040011", "B"),
    place!(8805, "Bucuresti, Sector 5", "Bucuresti", "RO", "050011", "B"),
    place!(8806, "Bucuresti, Sector 6", "Bucuresti", "RO", "060011", "B"),
    place!(4537, "Cluj-Napoca", "Cluj", "RO", "400001", "CJ"),
    place!(6124, "Timisoara", "Timis", "RO", "300001", "TM"),
    place!(5410, "Iasi", "Iasi", "RO", "700001", "IS"),
    place!(3120, "Constanta", "Constanta", "RO", "900001", "CT"),
    place!(2611, "Craiova", "Dolj", "RO", "200001", "DJ"),
    place!(1722, "Brasov", "Brasov", "RO", "500001", "BV"),
    place!(4301, "Galati", "Galati", "RO", "800001", "GL"),
    place!(7010, "Ploiesti", "Prahova", "RO", "100001", "PH"),
    place!(6630, "Oradea", "Bihor", "RO", "410001", "BH"),
    place!(1402, "Braila", "Braila", "RO", "810001", "BR"),
    place!(1001, "Arad", "Arad", "RO", "310001", "AR"),
    place!(1201, "Pitesti", "Arges", "RO", "110001", "AG"),
    place!(7301, "Sibiu", "Sibiu", "RO", "550001", "SB"),
    place!(1501, "Bacau", "Bacau", "RO", "600001", "BC"),
    place!(7701, "Targu Mures", "Mures", "RO", "540001", "MS"),
    place!(2201, "Baia Mare", "Maramures", "RO", "430001", "MM"),
    place!(1901, "Buzau", "Buzau", "RO", "120001", "BZ"),
    place!(7901, "Suceava", "Suceava", "RO", "720001", "SV"),
    place!(2001, "Satu Mare", "Satu Mare", "RO", "440001", "SM"),
    place!(7501, "Ramnicu Valcea", "Valcea", "RO", "240001", "VL"),
    place!(3501, "Drobeta-Turnu Severin", "Mehedinti", "RO", "220001", "MH"),
    place!(6801, "Piatra Neamt", "Neamt", "RO", "610001", "NT"),
    place!(8101, "Targu Jiu", "Gorj", "RO", "210001", "GJ"),
    place!(2901, "Focsani", "Vrancea", "RO", "620001", "VN"),
    place!(9101, "Floresti", "Cluj", "RO", "407280", "CJ"),
    place!(9102, "Voluntari", "Ilfov", "RO", "077190", "IF"),
    place!(9103, "Otopeni", "Ilfov", "RO", "075100", "IF"),
    place!(9104, "Selimbar", "Sibiu", "RO", "557260", "SB"),
    place!(9105, "Giroc", "Timis", "RO", "307220", "TM"),
    place!(20001, "Sofia", "Sofia-grad", "BG", "1000", "SO"),
    place!(20002, "Plovdiv", "Plovdiv", "BG", "4000", "PD"),
    place!(20003, "Varna", "Varna", "BG", "9000", "VR"),
    place!(30001, "Budapest", "Budapest", "HU", "1011", "BU"),
    place!(30002, "Debrecen", "Hajdu-Bihar", "HU", "4024", "HB"),
];

/// Categories: (id, name, parent_id, noun used in product names, brands).
pub(crate) struct Category {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) parent_id: i64,
    pub(crate) noun: &'static str,
    pub(crate) brands: &'static [&'static str],
    pub(crate) variants: &'static [&'static str],
}

pub(crate) const CATEGORIES: &[Category] = &[
    Category { id: 2725, name: "Telefoane mobile", parent_id: 2700, noun: "Telefon mobil", brands: &["Samsung", "Apple", "Xiaomi", "Motorola"], variants: &["128GB, Black", "256GB, Blue", "64GB, Green", "128GB, Silver"] },
    Category { id: 2730, name: "Huse telefoane", parent_id: 2700, noun: "Husa de protectie", brands: &["Spigen", "Tech-Protect", "Ringke"], variants: &["Transparent", "Negru", "Albastru"] },
    Category { id: 3012, name: "Laptopuri", parent_id: 3000, noun: "Laptop", brands: &["Lenovo", "ASUS", "HP", "Acer"], variants: &["15.6\", 16GB, 512GB SSD", "14\", 8GB, 256GB SSD", "16\", 32GB, 1TB SSD"] },
    Category { id: 3050, name: "Mouse", parent_id: 3000, noun: "Mouse wireless", brands: &["Logitech", "Razer", "A4Tech"], variants: &["Negru", "Alb", "Gri"] },
    Category { id: 4110, name: "Televizoare", parent_id: 4100, noun: "Televizor LED Smart", brands: &["Samsung", "LG", "Philips", "TCL"], variants: &["108 cm, 4K", "139 cm, 4K", "80 cm, HD"] },
    Category { id: 5220, name: "Espressoare", parent_id: 5200, noun: "Espressor automat", brands: &["De'Longhi", "Philips", "Krups"], variants: &["1.8 l, Negru", "1.5 l, Argintiu"] },
    Category { id: 5230, name: "Aspiratoare", parent_id: 5200, noun: "Aspirator vertical", brands: &["Dyson", "Bosch", "Rowenta", "Samsung"], variants: &["fara fir", "cu sac", "fara sac, 2 in 1"] },
    Category { id: 6101, name: "Jucarii de constructie", parent_id: 6100, noun: "Set de constructie", brands: &["LEGO", "Cobi", "Clementoni"], variants: &["250 piese", "500 piese", "1000 piese"] },
    Category { id: 7205, name: "Incaltaminte sport", parent_id: 7200, noun: "Pantofi sport", brands: &["Nike", "Adidas", "Puma", "New Balance"], variants: &["marimea 42", "marimea 39", "marimea 44"] },
    Category { id: 8301, name: "Scule electrice", parent_id: 8300, noun: "Masina de gaurit cu acumulator", brands: &["Bosch", "Makita", "DeWalt", "Einhell"], variants: &["18V, 2 acumulatori", "12V, 1 acumulator"] },
    Category { id: 9410, name: "Carti", parent_id: 9400, noun: "Carte", brands: &["Humanitas", "Polirom", "Litera"], variants: &["editie cartonata", "editie brosata"] },
    Category { id: 9520, name: "Suplimente alimentare", parent_id: 9500, noun: "Supliment alimentar", brands: &["Solgar", "Secom", "Zenyth"], variants: &["60 capsule", "120 capsule", "30 tablete"] },
];

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
