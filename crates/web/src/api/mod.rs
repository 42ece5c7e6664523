//! The JSON API under `/api/v1`.

pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod documents;
pub mod dossiers;
pub mod files;
pub mod jobs;
pub mod results;
pub mod signatures;
pub mod slips;
pub mod stats;
pub mod units;
pub mod uploads;
pub mod warehouse;
