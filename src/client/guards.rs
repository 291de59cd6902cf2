//! Request guards the client applies before sending; they live in [`crate::validate::guards`]
//! (one copy of the limits) and are re-exported here for the client's paths.

pub use crate::validate::guards::*;
