//! Pure rules of motcua: codes and identifiers, text folding, the working-day calendar
//! (with the Vietnamese lunisolar calendar), the procedure catalogue, administrative units,
//! agencies and roles. No I/O, no async: everything here is a function of its inputs.

pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod clock;
pub mod codes;
pub mod digitisation;
pub mod dossier;
pub mod error;
pub mod evaluation;
pub mod extract;
pub mod files;
pub mod lunar;
pub mod mac;
pub mod policy;
pub mod process;
pub mod results;
pub mod signatures;
pub mod slips;
pub mod stats;
pub mod text;
pub mod units;

pub use error::{Error, Errors, FieldError, Msg};
