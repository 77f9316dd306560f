//! What the token issuer (identity) and the token verifier (gateway) must agree on: the access-token
//! claims, and a clock both can share so tests can move time forward for both at once.

mod claims;
mod clock;

pub use claims::{ACCESS_TOKEN_ALGORITHM, AccessClaims};
pub use clock::Clock;
