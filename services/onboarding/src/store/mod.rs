//! All of onboarding's SQL. Nothing outside this module talks to the database.

pub mod checklist;
pub mod connect;
pub mod leads;
