//! A stateful simulator of the eMAG Marketplace API v4.4.9 on loopback, so that every
//! capability is tested over real HTTP and users can test their own code against it (in the
//! spirit of stripe-mock or moto).
//!
//! ```no_run
//! use magflow_emag::sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig { orders: 50, offers: 20, ..SimConfig::default() })?;
//! // Give `sim.url()` to a client as its base_url: routes are `{url}/{resource}/{action}`.
//! println!("{} as {}", sim.url(), sim.username());
//! # Ok::<(), magflow_emag::Error>(())
//! ```
//!
//! Layout (one job per file): `server` (the handle and the accept loop), `routes`, `pipeline`
//! (one request: stats, rate limit, faults, auth, handler), `auth`, `envelope` (body forms,
//! the `{isError, messages, results}` envelope, lenient readers, pagination, all-or-nothing
//! saves), `ratelimit` (sliding windows), `clock`, `state` + `seed` + `seed_orders` +
//! `refdata` (the data and its deterministic generator; tables in `data/`), the routes:
//! `orders` + `order_save`, `offers` + `offer_create`, `awb`, `rma`, `resources` (reference
//! lists), and `faults`, `stats`, `callbacks` (eMAG's calls to the seller's URL). The design and the
//! inference choices are in `docs/architecture.md`.

mod auth;
mod awb;
mod callbacks;
mod clock;
mod config;
mod envelope;
mod faults;
mod offer_create;
mod offers;
mod order_save;
mod orders;
mod pipeline;
mod ratelimit;
mod refdata;
mod resources;
mod rma;
mod routes;
mod seed;
mod seed_orders;
mod server;
mod state;
mod stats;

pub use callbacks::CallbackKind;
pub use config::SimConfig;
pub use faults::Fault;
pub use server::Simulator;

/// `count` realistic orders (and the `offers` they are drawn from) exactly as `order/read`
/// sends them, without starting a server: for benchmarks and for users' own tests of code
/// that consumes orders. Deterministic for a given `seed` and `now` (eMAG local time).
pub fn sample_orders(
    count: usize,
    offers: usize,
    seed: u64,
    now: chrono::NaiveDateTime,
) -> Vec<serde_json::Value> {
    let defaults = SimConfig::default();
    seed::generate(
        count,
        offers.max(1),
        seed,
        now,
        defaults.history_days,
        defaults.return_period_days,
    )
    .orders
    .into_iter()
    .map(|o| serde_json::Value::Object(o.doc))
    .collect()
}
