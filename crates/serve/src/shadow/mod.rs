//! The shadow challenger ([`Shadow`]): a second model set scoring a share
//! of the records off the request path, compared with the served
//! (champion) set in `GET /v1/monitoring` ([`comparison`], [`report`]) and
//! written to the audit trail as lines of their own (`route: "shadow"`).

mod challenger;
mod comparison;
pub(crate) mod report;

pub use challenger::Shadow;
