//! What route modules read: who may call and the caller, the extractors, the one-RPC helpers, the
//! documentation many routes share and the JSON conversions. A route file starts with
//! `use crate::routes::prelude::*;` and then only what is its own.

pub(crate) use crate::{
    auth::{AuthUser, AuthUserAllowUnverified},
    problem::Problem,
    routes::{
        call::{Caller, answer, created, rpc},
        doc::{
            LinkRefused, NoAccount, NotAMember, PaymentPending, SessionMode, StripeFailed,
            TenantParam, TenantPath, UnknownProvider,
        },
        extract::{Json, Path, Query, TenantQuery},
        page::PageQuery,
        shape::{each, known, opt, time, word_of},
        words::{parse, parse_field, parse_optional, word},
    },
};
