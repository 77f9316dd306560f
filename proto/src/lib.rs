//! Onramp's gRPC contracts: one module per versioned package, generated at build time.
//!
//! Errors cross the wire as `google.rpc.Status` details (`ErrorInfo` with domain [`ERROR_DOMAIN`]);
//! the stable reason strings live in `onramp-kit`'s code table.

/// `ErrorInfo.domain` on every error an Onramp service returns.
pub const ERROR_DOMAIN: &str = "onramp.dev";

/// Encoded `FileDescriptorSet` of every Onramp package, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/onramp_descriptor.bin"));

/// Shared messages and the `ServiceInfo` service every Onramp service serves.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.common.v1");
    }
}

/// Users, sessions, verification, OAuth and signing keys.
pub mod identity {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.identity.v1");
    }
}

/// Tenants (workspaces), memberships, invites, starter data and provisioning.
pub mod tenancy {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.tenancy.v1");
    }
}

/// Plans, Stripe customers and subscriptions, webhooks, trials, entitlements and usage.
pub mod billing {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.billing.v1");
    }
}

/// Product events: the self-serve funnel's counts, served by every service.
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.events.v1");
    }
}

/// Onboarding checklist, Stripe Connect onboarding and sales leads.
pub mod onboarding {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("onramp.onboarding.v1");
    }
}
