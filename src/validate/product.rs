//! The product half of `product_offer/save` (spec §9.2, §9.3): the documentation keys a
//! new product needs (name, brand, category, images, characteristics, family, EANs, texts).

use super::check::{self, Need, Optional, Required};
use super::doc::{Doc, Fields, Key};
use super::offer::OfferMode;
use super::values::{self, show};
use super::{FieldPath, Report, MAX_ORDER_ID};

const PRODUCT: Fields<14> = Fields::new([
    Key::CategoryId,
    Key::VendorCategoryId,
    Key::SourceLanguage,
    Key::PartNumber,
    Key::Description,
    Key::Brand,
    Key::ForceImagesDownload,
    Key::Images,
    Key::ImagesOverwrite,
    Key::Characteristics,
    Key::Family,
    Key::Url,
    Key::Attachments,
    Key::SafetyInformation,
]);

const IMAGE: Fields<2> = Fields::new([Key::DisplayType, Key::Url]);
const CHARACTERISTIC: Fields<3> = Fields::new([Key::Id, Key::Value, Key::Tag]);
const FAMILY: Fields<3> = Fields::new([Key::Id, Key::Name, Key::FamilyTypeId]);
const ATTACHMENT: Fields<2> = Fields::new([Key::Id, Key::Url]);
const SOURCE_LANGUAGES: [&str; 16] = [
    "en_GB", "ro_RO", "pl_PL", "bg_BG", "hu_HU", "de_DE", "it_IT", "fr_FR", "es_ES", "nl_NL",
    "cs_CZ", "ru_RU", "el_GR", "lt_LT", "sk_SK", "uk_UA",
];

/// Longest description and safety text: 16777215 characters.
const MAX_LONG_TEXT: usize = 16_777_215;

/// A URL of 1..1024 characters with an http(s) scheme and a host.
pub(super) fn url_field<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, need: Need) {
    if !check::text_range(r, p, v.clone(), 1, 1024, need) {
        return;
    }
    let Some(v) = values::present(v) else { return };
    let ok = v
        .with_str(|s| {
            url::Url::parse(s.trim())
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        })
        .unwrap_or(false);
    if !ok {
        r.push(
            p,
            format_args!("must be a valid http(s) URL, got {}", show(&v)),
        );
    }
}

/// `part_number` after eMAG strips spaces, `,` and `;`: 1..25 characters.
fn part_number<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, need: Need) {
    let Some(v) = values::present(v) else {
        if need == Required {
            r.push(p, "is required (1 to 25 characters)");
        }
        return;
    };
    let len = v.with_str(|s| s.chars().filter(|c| !matches!(c, ' ' | ',' | ';')).count());
    match len {
        Some(1..=25) => {}
        Some(n) => r.push(
            p,
            format_args!(
                "must have 1 to 25 characters once spaces, ',' and ';' are stripped, got {n}"
            ),
        ),
        None => r.push(
            p,
            format_args!("must be a text of 1 to 25 characters, got {}", show(&v)),
        ),
    }
}

/// The documentation keys of `product_offer/save` (§9.2).
// Long on purpose: the documentation keys checked one after another, in the order of the
// documentation.
pub(super) fn check_product<D: Doc>(r: &mut Report, offer: &D, mode: OfferMode) {
    let root = FieldPath::ROOT;
    let [category_id, vendor_category_id, source_language, part_number_v, description, brand, force_images_download, images, images_overwrite, characteristics, family, url, attachments, safety_information] =
        offer.gather(&PRODUCT);
    let create = if mode == OfferMode::Create {
        Required
    } else {
        Optional
    };
    check::int_range(r, &root.key("category_id"), category_id, 1, 65_535, create);
    check::int_range(
        r,
        &root.key("vendor_category_id"),
        vendor_category_id,
        0,
        i64::MAX,
        Optional,
    );
    if let Some(v) = values::present(source_language) {
        if v.with_str(|s| SOURCE_LANGUAGES.contains(&s)) != Some(true) {
            r.push(
                &root.key("source_language"),
                format_args!(
                    "must be a language code such as ro_RO or en_GB (one of {}), got {}",
                    SOURCE_LANGUAGES.join(" "),
                    show(&v)
                ),
            );
        }
    }
    part_number(r, &root.key("part_number"), part_number_v, create);
    check::text_range(
        r,
        &root.key("description"),
        description,
        1,
        MAX_LONG_TEXT,
        Optional,
    );
    check::text_range(r, &root.key("brand"), brand, 1, 255, create);
    check::flag01(
        r,
        &root.key("force_images_download"),
        force_images_download,
        Optional,
    );
    check::flag01(r, &root.key("images_overwrite"), images_overwrite, Optional);
    let images_path = root.key("images");
    if let Some(list) = check::list(
        r,
        &images_path,
        images,
        Optional,
        "{display_type, url} objects",
    ) {
        check::each_object(r, &images_path, &list, |r, ip, _, image| {
            let [display_type, url] = image.gather(&IMAGE);
            check::int_range(r, &ip.key("display_type"), display_type, 0, 2, Optional);
            url_field(r, &ip.key("url"), url, Required);
        });
    }
    let ch_path = root.key("characteristics");
    if let Some(list) = check::list(
        r,
        &ch_path,
        characteristics,
        Optional,
        "{id, value} objects",
    ) {
        check::each_object(r, &ch_path, &list, |r, ip, _, ch| {
            let [id, value, tag] = ch.gather(&CHARACTERISTIC);
            check::int_range(r, &ip.key("id"), id, 1, 65_535, Required);
            check::text_range(r, &ip.key("value"), value, 1, 255, Required);
            check::text_range(r, &ip.key("tag"), tag, 1, 255, Optional);
        });
    }
    let family_path = root.key("family");
    if let Some(fam) = check::object(
        r,
        &family_path,
        family,
        Optional,
        "an object {id, name, family_type_id}",
    ) {
        let [id, name, family_type_id] = fam.gather(&FAMILY);
        let id = check::int_range(r, &family_path.key("id"), id, 0, i64::MAX, Required);
        if id.is_some_and(|i| i != 0) {
            check::text_range(r, &family_path.key("name"), name, 1, 255, Required);
            check::int_range(
                r,
                &family_path.key("family_type_id"),
                family_type_id,
                1,
                i64::MAX,
                Required,
            );
        }
    }
    url_field(r, &root.key("url"), url, Optional);
    let att_path = root.key("attachments");
    if let Some(list) = check::list(r, &att_path, attachments, Optional, "{id, url} objects") {
        check::each_object(r, &att_path, &list, |r, ip, _, att| {
            let [id, url] = att.gather(&ATTACHMENT);
            check::int_range(r, &ip.key("id"), id, 1, MAX_ORDER_ID, Optional);
            url_field(r, &ip.key("url"), url, Required);
        });
    }
    check::text_range(
        r,
        &root.key("safety_information"),
        safety_information,
        1,
        MAX_LONG_TEXT,
        Optional,
    );
}
