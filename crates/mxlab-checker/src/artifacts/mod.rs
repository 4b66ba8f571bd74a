//! Readers for what an administrator is handed: DSNs and NDRs, the tracking log.

pub mod fields;
pub mod notice;
pub mod tracking;

/// The artifacts as text, as the admin has them.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    pub dsn: Vec<String>,
    pub ndr: Vec<String>,
    pub tracking_log: Option<String>,
    pub queue: Option<String>,
}
