//! ProvisionTenant: tenant + owner membership + starter data in one transaction, idempotently.
//!
//! Per (caller, key) an advisory transaction lock serialises attempts, so N concurrent duplicates
//! wait for the first and then replay its stored result. The lock is taken in the transaction that
//! later writes everything; billing is asked while only the lock is held (nothing is written before
//! billing answers), and a dropped request rolls the transaction back and frees the lock.

use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::{
    domain::{
        inputs::{IdempotencyKey, PlanHint, TenantName},
        lifecycle::{Status, TenantState},
        role::Role,
        slug::Slug,
    },
    error::TenancyError,
    service::Tenancy,
    store::{
        self,
        members::{self, Membership},
        provisioning::{self, RequestParams},
        tenants::{self, NewTenant, Tenant},
    },
};

/// A parsed ProvisionTenant request.
#[derive(Debug, Clone)]
pub(crate) struct ProvisionInput {
    pub(crate) user_id: Uuid,
    pub(crate) key: IdempotencyKey,
    pub(crate) name: TenantName,
    /// None: derive from the name.
    pub(crate) slug: Option<Slug>,
    pub(crate) plan: PlanHint,
}

/// What a successful provisioning made.
#[derive(Debug, Clone)]
pub(crate) struct Provisioned {
    pub(crate) tenant: Tenant,
    pub(crate) owner: Membership,
    pub(crate) status: Status,
}

/// The stored response (encoded by the caller) and whether it is a replay.
#[derive(Debug)]
pub(crate) struct ProvisionResult {
    pub(crate) response: Vec<u8>,
    pub(crate) replayed: bool,
}

/// A failed step inside the transaction.
struct StepFailure {
    step: &'static str,
    cause: anyhow::Error,
    slug_taken: bool,
}

fn at(step: &'static str) -> impl FnOnce(anyhow::Error) -> StepFailure {
    move |cause| StepFailure {
        step,
        cause,
        slug_taken: false,
    }
}

impl Tenancy {
    /// Provisions (or replays). `encode` turns the result into the bytes stored and replayed.
    pub(crate) async fn provision(
        &self,
        input: ProvisionInput,
        encode: impl Fn(&Provisioned) -> Vec<u8> + Send,
    ) -> Result<ProvisionResult, TenancyError> {
        let outcome = self.provision_once(input, encode).await;
        super::meter::provisioning(&outcome);
        outcome
    }

    async fn provision_once(
        &self,
        input: ProvisionInput,
        encode: impl Fn(&Provisioned) -> Vec<u8> + Send,
    ) -> Result<ProvisionResult, TenancyError> {
        let requested_slug = input.slug.as_ref().map_or("", Slug::as_str);
        let params = RequestParams {
            user_id: input.user_id,
            key: input.key.as_str(),
            name: input.name.as_str(),
            slug: requested_slug,
            plan_id: input.plan.as_str(),
        };
        // Fast path for retries: no lock needed to read a committed result.
        if let Some(stored) =
            provisioning::find_request(&self.pool, input.user_id, params.key).await?
        {
            return replay(stored, &params);
        }
        let mut tx = self.pool.begin().await?;
        provisioning::lock_key(&mut tx, input.user_id, params.key).await?;
        if let Some(stored) =
            provisioning::find_request(&mut *tx, input.user_id, params.key).await?
        {
            return replay(stored, &params);
        }
        if let Some(slug) = &input.slug
            && tenants::slug_taken(&mut *tx, slug).await?
        {
            return Err(slug_taken());
        }
        let tenant_id = Uuid::now_v7();
        let state = self
            .entitlements
            .starting_state(tenant_id, &input.plan, input.user_id)
            .await?;
        let written = self
            .write(&mut tx, &input, &params, tenant_id, state, &encode)
            .await;
        let outcome = match written {
            Ok(response) => tx
                .commit()
                .await
                .map(|()| response)
                .map_err(|error| at("commit")(error.into())),
            Err(failure) => {
                // Dropping would also roll back; doing it now frees the key's lock before the audit.
                let _ = tx.rollback().await;
                Err(failure)
            }
        };
        match outcome {
            Ok(response) => Ok(ProvisionResult {
                response,
                replayed: false,
            }),
            Err(failure) if failure.slug_taken => Err(slug_taken()),
            Err(failure) => Err(self.record_failure(&params, failure).await),
        }
    }

    async fn write(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        input: &ProvisionInput,
        params: &RequestParams<'_>,
        tenant_id: Uuid,
        state: TenantState,
        encode: &(impl Fn(&Provisioned) -> Vec<u8> + Send),
    ) -> Result<Vec<u8>, StepFailure> {
        let conn: &mut PgConnection = tx;
        let tenant = self.insert_tenant(conn, input, tenant_id, state).await?;
        let owner = members::insert(conn, tenant_id, input.user_id, Role::Owner)
            .await
            .map_err(at("insert owner membership"))?;
        provisioning::insert_starter_items(conn, tenant_id, &self.template)
            .await
            .map_err(|error| at("insert starter data")(error.into()))?;
        crate::funnel::workspace_created(conn, input.user_id, tenant_id, params.plan_id, state)
            .await
            .map_err(|error| at("record product event")(error.into()))?;
        let status = Status::of(tenant.state, self.settings.payment_retry_after);
        let response = encode(&Provisioned {
            tenant,
            owner,
            status,
        });
        provisioning::insert_request(conn, params, tenant_id, &response)
            .await
            .map_err(|error| at("store idempotent result")(error.into()))?;
        Ok(response)
    }

    /// Inserts the tenant row. A derived slug that a concurrent provisioning took first (the insert
    /// waited for that transaction's commit) is replaced under a savepoint and tried again.
    async fn insert_tenant(
        &self,
        conn: &mut PgConnection,
        input: &ProvisionInput,
        tenant_id: Uuid,
        state: TenantState,
    ) -> Result<Tenant, StepFailure> {
        const ATTEMPTS: u32 = 5;
        let mut attempt = 1;
        let mut slug = choose_slug(conn, input, attempt).await?;
        loop {
            let savepoint = sqlx::query("savepoint insert_tenant")
                .execute(&mut *conn)
                .await;
            savepoint.map_err(|error| at("insert tenant")(error.into()))?;
            let new = NewTenant {
                id: tenant_id,
                name: input.name.as_str(),
                slug: &slug,
                state,
                template_version: &self.template.version,
            };
            let error = match tenants::insert(conn, &new).await {
                Ok(tenant) => return Ok(tenant),
                Err(error) => error,
            };
            let slug_race = store::is_unique_violation(&error, "tenants_slug_key");
            if slug_race && input.slug.is_none() && attempt < ATTEMPTS {
                sqlx::query("rollback to savepoint insert_tenant")
                    .execute(&mut *conn)
                    .await
                    .map_err(|error| at("insert tenant")(error.into()))?;
                attempt += 1;
                slug = choose_slug(conn, input, attempt).await?;
                continue;
            }
            return Err(StepFailure {
                slug_taken: slug_race && input.slug.is_some(),
                step: "insert tenant",
                cause: error.into(),
            });
        }
    }

    /// Logs the cause (at the edge, via the error) and keeps an audit row for operators; the
    /// transaction is already rolled back, so nothing else of the attempt remains.
    async fn record_failure(
        &self,
        params: &RequestParams<'_>,
        failure: StepFailure,
    ) -> TenancyError {
        let cause = format!("{:#}", failure.cause);
        if let Err(error) = provisioning::insert_failure(
            &self.pool,
            params.user_id,
            params.key,
            failure.step,
            &cause,
        )
        .await
        {
            tracing::error!(%error, "could not write the provisioning failure audit row");
        }
        TenancyError::ProvisioningFailed {
            step: failure.step,
            cause: failure.cause,
        }
    }
}

/// The requested slug; or the one derived from the name, with a random suffix when it is taken (no
/// scan of similar slugs, no waiting on other provisionings of the same name).
async fn choose_slug(
    conn: &mut PgConnection,
    input: &ProvisionInput,
    attempt: u32,
) -> Result<Slug, StepFailure> {
    if let Some(slug) = &input.slug {
        return Ok(slug.clone());
    }
    let base = Slug::derive(input.name.as_str());
    if attempt == 1
        && !tenants::slug_taken(conn, &base)
            .await
            .map_err(|error| at("choose slug")(error.into()))?
    {
        return Ok(base);
    }
    Ok(base.with_random_suffix())
}

fn replay(
    stored: provisioning::StoredRequest,
    params: &RequestParams<'_>,
) -> Result<ProvisionResult, TenancyError> {
    if stored.name != params.name || stored.slug != params.slug || stored.plan_id != params.plan_id
    {
        return Err(TenancyError::IdempotencyKeyReused);
    }
    Ok(ProvisionResult {
        response: stored.response,
        replayed: true,
    })
}

fn slug_taken() -> TenancyError {
    TenancyError::AlreadyExists {
        field: "slug",
        message: "this slug is already taken",
    }
}
