//! `src/status.rs` (the C `mf_status` enum) is generated from the core's table of error kinds:
//! cbindgen reads Rust source and cannot expand the core's macro, so the enum is written out
//! in a checked-in file, and this test fails when it differs from what the table gives.
//! Regenerate with `make status` (`MF_REGENERATE=1 cargo test -p magflow-emag-c --test status`).

use std::fmt::Write as _;

use mf_core::ErrorKind;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/status.rs");

fn render() -> String {
    let mut variants = String::new();
    let mut of_kind = String::new();
    let mut names = String::from("        0 => c\"MF_OK\",\n");
    for kind in ErrorKind::ALL {
        let (c_name, code) = (kind.c_status_name(), kind.code());
        let _ = writeln!(variants, "    /// {}\n    {c_name} = {code},", kind.doc());
        let _ = writeln!(
            of_kind,
            "            ErrorKind::{kind:?} => mf_status::{c_name},"
        );
        let _ = writeln!(names, "        {code} => c\"{c_name}\",");
    }
    format!(
        "//! GENERATED from the core's table of error kinds (`error_kinds!` in src/error.rs) by
//! bindings/c/tests/status.rs; do not edit. Regenerate with `make status`.

use std::ffi::{{c_int, CStr}};

use mf_core::ErrorKind;

/// Status of every fallible call. 0 is success; the other values are the core's stable
/// error-kind codes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mf_status {{
    /// Success.
    MF_OK = 0,
{variants}}}

impl mf_status {{
    /// The status of a core error kind (a kind unknown to this table is internal).
    pub(crate) fn of(kind: ErrorKind) -> Self {{
        match kind {{
{of_kind}            _ => mf_status::MF_ERR_INTERNAL,
        }}
    }}
}}

/// The name of a status number (`MF_UNKNOWN_STATUS` for any other number).
pub(crate) fn status_name(status: c_int) -> &'static CStr {{
    match status {{
{names}        _ => c\"MF_UNKNOWN_STATUS\",
    }}
}}
"
    )
}

#[test]
fn status_rs_is_generated_from_the_core_table() {
    let expected = render();
    if std::env::var_os("MF_REGENERATE").is_some() {
        std::fs::write(PATH, &expected).expect("write src/status.rs");
        return;
    }
    let actual = std::fs::read_to_string(PATH).expect("read src/status.rs");
    assert!(
        actual == expected,
        "bindings/c/src/status.rs differs from the core's table of error kinds: run `make status`"
    );
}
