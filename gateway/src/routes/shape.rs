//! The three shapes most routes are made of, each written once: an answer copied out of a proto
//! message ([`answer!`]), a body copied into a proto request ([`body!`]), and a handler that is one
//! RPC ([`one_rpc!`]). Fields are listed once, in their JSON order; a field whose JSON differs from
//! the proto names its conversion after `=>` (a word, a time, a nested shape), so what is not plain
//! copying stays visible. Serde and schema attributes pass through untouched: the OpenAPI document
//! is what the structs say.

pub(crate) use crate::routes::{json_time::rfc3339 as time, words::word_of};

/// The conversion given (`[f]`), else the default one.
macro_rules! pick {
    ([] $default:expr) => {
        $default
    };
    ([$given:expr] $default:expr) => {
        $given
    };
}

/// A JSON answer and its `From` the proto message whose fields it copies (`=> f` converts one;
/// `name <- field` reads a proto field of another name). A field converted `=> time` is documented
/// as a date-time here, once, rather than by a `#[schema(format = DateTime)]` above each.
macro_rules! answer {
    // The fields, one at a time, into `[done]`; then the struct and its `From`.
    (@fields $head:tt [$($done:tt)*]) => {
        answer!(@emit $head $($done)*);
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$fm:meta])* $field:ident $(<- $source:ident)?: Option<String> => time $(, $($rest:tt)*)?
    ) => {
        answer!(@fields $head [
            $($done)* $(#[$fm])* #[schema(format = DateTime)]
            $field $(<- $source)?: Option<String> => time,
        ] $($($rest)*)?);
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$fm:meta])* $field:ident $(<- $source:ident)?: $ty:ty $(=> $convert:expr)? $(, $($rest:tt)*)?
    ) => {
        answer!(@fields $head [
            $($done)* $(#[$fm])* $field $(<- $source)?: $ty $(=> $convert)?,
        ] $($($rest)*)?);
    };
    (@emit [$(#[$meta:meta])* $name:ident from $proto:ty]
        $($(#[$field_meta:meta])* $field:ident $(<- $source:ident)?: $ty:ty $(=> $convert:expr)?),*
        $(,)?
    ) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        $(#[$meta])*
        pub(crate) struct $name {
            $($(#[$field_meta])* pub(crate) $field: $ty,)*
        }

        impl From<$proto> for $name {
            fn from(from: $proto) -> Self {
                Self {
                    $($field: pick!([$($convert)?] std::convert::identity)(
                        pick!([$(from.$source)?] from.$field)
                    ),)*
                }
            }
        }
    };
    // One page of a list: its items, then `next_page_token` from the proto's `page`.
    ($(#[$meta:meta])* $name:ident from $proto:ty, paged { $($fields:tt)* }) => {
        answer! {
            $(#[$meta])*
            $name from $proto {
                $($fields)*
                /// The token for the next page (`?page_token=`); null on the last page.
                #[schema(required = true)]
                next_page_token <- page: Option<String> => $crate::routes::page::next_page_token,
            }
        }
    };
    ($(#[$meta:meta])* $name:ident from $proto:ty { $($fields:tt)* }) => {
        answer!(@fields [$(#[$meta])* $name from $proto] [] $($fields)*);
    };
}

/// A JSON body and the proto request it stands for: `body.request(caller, extra…)` fills the
/// request's `caller`, the body's fields and the `extra` ones the route takes from elsewhere (path,
/// headers). The serde attributes (`deny_unknown_fields`, which every body carries, and defaults)
/// are written at the body, since they are part of its documented schema.
macro_rules! body {
    ($(#[$meta:meta])* $name:ident => $proto:ident $(($($extra:ident: $extra_ty:ty),*))? {
        $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        #[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        pub(crate) struct $name {
            $($(#[$field_meta])* $field: $ty,)*
        }

        impl $name {
            /// The RPC request for this body, on behalf of `caller`.
            fn request(
                self,
                caller: Option<onramp_proto::common::v1::Caller>,
                $($($extra: $extra_ty),*)?
            ) -> $proto {
                $proto { caller, $($field: self.$field,)* $($($extra,)*)? }
            }
        }
    };
}

/// A handler that is one RPC: `$call` is the call (the handler's extractors are in scope), and its
/// reply becomes the JSON answer through `From` (or `$shape`), a failure the problem its status
/// stands for. `-> (CREATED, T)` answers with that status instead of 200; `-> Redirect` answers
/// `303 See Other` to the URL `$shape` reads from the reply.
macro_rules! one_rpc {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $params:tt -> Redirect = $call:expr, $url:expr;) => {
        $(#[$meta])*
        $vis async fn $name $params -> Result<axum::response::Redirect, $crate::problem::Problem> {
            let reply = $crate::routes::call::answer($call).await?;
            Ok(axum::response::Redirect::to(&($url)(reply)))
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident $params:tt -> ($status:ident, $answer:ty)
        = $call:expr $(, $shape:expr)?;) => {
        $(#[$meta])*
        $vis async fn $name $params -> Result<
            (http::StatusCode, $crate::routes::extract::Json<$answer>),
            $crate::problem::Problem,
        > {
            let json = $crate::routes::call::rpc($call, pick!([$($shape)?] <$answer>::from)).await?;
            Ok((http::StatusCode::$status, json))
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident $params:tt -> $answer:ty
        = $call:expr $(, $shape:expr)?;) => {
        $(#[$meta])*
        $vis async fn $name $params -> Result<
            $crate::routes::extract::Json<$answer>,
            $crate::problem::Problem,
        > {
            $crate::routes::call::rpc($call, pick!([$($shape)?] <$answer>::from)).await
        }
    };
}

/// The request of a route that acts on the workspace its query names: `$request { caller,
/// tenant_id }`, from the handler's `Caller` and `TenantQuery`.
macro_rules! for_tenant {
    ($request:ident, $c:ident, $query:ident) => {
        $request {
            caller: $c.meta(),
            tenant_id: $query.tenant_id,
        }
    };
}

/// A nested message, if set, in its JSON shape.
pub(crate) fn opt<P, J: From<P>>(value: Option<P>) -> Option<J> {
    value.map(J::from)
}

/// A repeated message in its JSON shape.
pub(crate) fn each<P, J: From<P>>(values: Vec<P>) -> Vec<J> {
    values.into_iter().map(J::from).collect()
}

/// Proto3 has no "unset" for strings: an empty one means the service did not fill it in.
pub(crate) fn known(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}
