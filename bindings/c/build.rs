//! Gives the shared library its SONAME, `libmagflow_emag.so.<MF_ABI_VERSION>` (see lib.rs;
//! a unit test checks the two agree), so programs linked against it load a compatible one.
fn main() {
    let soname = "libmagflow_emag.so.0";
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rustc-env=MF_SONAME={soname}");
    println!("cargo:rerun-if-changed=build.rs");
}
