//! End-to-end tests of the whole Onramp stack live in `tests/api`; this crate has no library code.
