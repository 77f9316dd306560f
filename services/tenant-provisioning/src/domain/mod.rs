//! The domain: parsed values (newtypes built only by `parse`), the lifecycle table, roles, the starter
//! template. Nothing here does I/O.

pub(crate) mod email;
pub(crate) mod inputs;
pub(crate) mod lifecycle;
pub(crate) mod role;
pub(crate) mod slug;
pub(crate) mod template;
