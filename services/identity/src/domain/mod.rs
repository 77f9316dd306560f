//! Parsed inputs: a value of these types has passed validation, so the rest of the service never
//! re-checks it.

mod display_name;
mod email;
mod password;

pub(crate) use display_name::DisplayName;
pub(crate) use email::Email;
pub(crate) use password::{MIN_PASSWORD_CHARS, NewPassword};
