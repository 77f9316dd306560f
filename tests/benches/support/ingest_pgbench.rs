//! The pgbench side of `webhook_ingest`: the statements billing issues for a subscription event
//! (the claim, the raw delivery, the version-guarded mirror write, the tenant's entitlement and its
//! outbox row), run by pgbench on the same database as a ceiling for the same work without the
//! services. `BENCH_PGBENCH_SHAPE` picks which of billing's shapes:
//!
//! - `group` (default): as billing writes them now (see `services/billing/src/webhook`) — the
//!   subscription's lock and its row, the claim under the version guard and the log row in one
//!   statement, the mirror write with its plan and the tenant's lock in one, the tenant's
//!   subscriptions with its locked entitlement in one, the entitlement with its outbox row in one —
//!   [`GROUP`] events per transaction, as its group commit writes concurrent deliveries;
//! - `group-six`: the same before the subscription was read with the claim and the tenant's
//!   subscriptions with its entitlement (six statements per event);
//! - `single`: the shape before group commit — eleven statements, one transaction per event;
//! - `three-commits`: the shape before the single-transaction ingest (three commits per event).

/// Events per transaction in the `group` shape: about what a group holds at the bench's concurrency
/// (16 deliveries in flight over billing's four writers).
pub(crate) const GROUP: u64 = 4;

/// One event of the `group` shape, for event number `:n`.
const GROUP_EVENT: &str = r"
with locked as (select pg_advisory_xact_lock(hashtextextended('sub_pg' || :n, 0))), subscription as (select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id from subscriptions where stripe_subscription_id = 'sub_pg' || :n and exists (select 1 from locked) for no key update), verdict as (select case when s.last_event_created = 'epoch'::timestamptz then 'applied' when now() < s.last_event_created then 'stale' else 'applied' end as outcome from (select 1) anchor left join subscription s on true), claimed as (insert into stripe_events (event_id, event_type, created, account_id, outcome) select 'evt_pg' || :n, 'customer.subscription.updated', now(), null, verdict.outcome from verdict on conflict (event_id) do nothing returning outcome), logged as (insert into stripe_deliveries (id, event_id, event_type, headers, payload, connect, outcome, received_at) select gen_random_uuid(), 'evt_pg' || :n, 'customer.subscription.updated', '{}', '\x00', false, coalesce((select outcome from claimed), 'duplicate'), clock_timestamp() returning outcome) select logged.outcome, subscription.* from logged left join subscription on true;
with written as (insert into subscriptions (stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id, updated_at) values ('sub_pg' || :n, md5(:n::text)::uuid, 'cus_pg', 'active', 'price_bench', coalesce((select id from plans where id = null), (select id from plans where stripe_price_id = 'price_bench'), null), 1, now(), null, false, now(), 'evt_pg' || :n, now()) on conflict (stripe_subscription_id) do update set status = excluded.status, plan_id = excluded.plan_id, last_event_created = excluded.last_event_created, last_event_id = excluded.last_event_id, updated_at = now() returning plan_id) select written.plan_id from written left join lateral (select pg_advisory_xact_lock(hashtextextended('tenant:' || md5(:n::text)::uuid::text, 0))::text as locked) lock on true;
select e.tenant_id as e_tenant_id, e.state as e_state, e.source as e_source, e.plan_id as e_plan_id, e.trial_ends_at as e_trial_ends_at, e.ends_at as e_ends_at, e.version as e_version, e.updated_at as e_updated_at, s.stripe_subscription_id, s.tenant_id, s.stripe_customer_id, s.status, s.stripe_price_id, s.plan_id, s.seats, s.current_period_end, s.trial_end, s.cancel_at_period_end, s.last_event_created, s.last_event_id from (select 1) anchor left join (select * from entitlements where tenant_id = md5(:n::text)::uuid for update) e on true left join subscriptions s on s.tenant_id = md5(:n::text)::uuid;
with written as (insert into entitlements (tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at) values (md5(:n::text)::uuid, 'active', 'stripe_subscription', null, null, now(), 1, now()) on conflict (tenant_id) do update set state = excluded.state, version = excluded.version, updated_at = now() returning tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at), relayed as (insert into outbox (id, topic, tenant_id, payload) select gen_random_uuid(), 'tenancy.apply_billing_event', md5(:n::text)::uuid, '{}') select * from written;
";

/// One event of the `group-six` shape, for event number `:n`.
const GROUP_SIX_EVENT: &str = r"
with claimed as (insert into stripe_events (event_id, event_type, created, account_id, outcome) values ('evt_pg' || :n, 'customer.subscription.updated', now(), null, 'applied') on conflict (event_id) do nothing returning event_id), logged as (insert into stripe_deliveries (id, event_id, event_type, headers, payload, connect, outcome, received_at) select gen_random_uuid(), 'evt_pg' || :n, 'customer.subscription.updated', '{}', '\x00', false, case when exists (select 1 from claimed) then 'applied' else 'duplicate' end, clock_timestamp() returning outcome) select logged.outcome from logged left join lateral (select pg_advisory_xact_lock(hashtextextended('sub_pg' || :n, 0))::text as locked where logged.outcome = 'applied') lock on true;
select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id from subscriptions where stripe_subscription_id = 'sub_pg' || :n;
with written as (insert into subscriptions (stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id, updated_at) values ('sub_pg' || :n, md5(:n::text)::uuid, 'cus_pg', 'active', 'price_bench', coalesce((select id from plans where id = null), (select id from plans where stripe_price_id = 'price_bench'), null), 1, now(), null, false, now(), 'evt_pg' || :n, now()) on conflict (stripe_subscription_id) do update set status = excluded.status, plan_id = excluded.plan_id, last_event_created = excluded.last_event_created, last_event_id = excluded.last_event_id, updated_at = now() returning plan_id) select written.plan_id from written left join lateral (select pg_advisory_xact_lock(hashtextextended('tenant:' || md5(:n::text)::uuid::text, 0))::text as locked) lock on true;
select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id from subscriptions where tenant_id = md5(:n::text)::uuid;
select tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at from entitlements where tenant_id = md5(:n::text)::uuid for update;
with written as (insert into entitlements (tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at) values (md5(:n::text)::uuid, 'active', 'stripe_subscription', null, null, now(), 1, now()) on conflict (tenant_id) do update set state = excluded.state, version = excluded.version, updated_at = now() returning tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at), relayed as (insert into outbox (id, topic, tenant_id, payload) select gen_random_uuid(), 'tenancy.apply_billing_event', md5(:n::text)::uuid, '{}') select * from written;
";

/// The claim, in the older shapes.
const CLAIM: &str = r"insert into stripe_events (event_id, event_type, created, account_id, outcome) values ('evt_pg' || :n, 'customer.subscription.updated', now(), null, 'applied') on conflict (event_id) do nothing;
";

/// The handler's statements for a subscription event, in the older shapes: the subscription's lock
/// and read, the plan, the mirror write, the tenant's lock and read, the entitlement and its outbox row.
const HANDLER: &str = r"select pg_advisory_xact_lock(hashtextextended('sub_pg' || :n, 0));
select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id from subscriptions where stripe_subscription_id = 'sub_pg' || :n;
select id from plans where stripe_price_id = 'price_bench';
insert into subscriptions (stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id, updated_at) values ('sub_pg' || :n, md5(:n::text)::uuid, 'cus_pg', 'active', 'price_bench', null, 1, now(), null, false, now(), 'evt_pg' || :n, now()) on conflict (stripe_subscription_id) do update set status = excluded.status, last_event_created = excluded.last_event_created, last_event_id = excluded.last_event_id, updated_at = now();
select pg_advisory_xact_lock(hashtextextended('tenant:' || md5(:n::text)::uuid::text, 0));
select stripe_subscription_id, tenant_id, stripe_customer_id, status, stripe_price_id, plan_id, seats, current_period_end, trial_end, cancel_at_period_end, last_event_created, last_event_id from subscriptions where tenant_id = md5(:n::text)::uuid;
select tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at from entitlements where tenant_id = md5(:n::text)::uuid for update;
insert into entitlements (tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at) values (md5(:n::text)::uuid, 'active', 'stripe_subscription', null, null, now(), 1, now()) on conflict (tenant_id) do update set state = excluded.state, version = excluded.version, updated_at = now() returning tenant_id, state, source, plan_id, trial_ends_at, ends_at, version, updated_at;
insert into outbox (id, topic, tenant_id, payload) values (gen_random_uuid(), 'tenancy.apply_billing_event', md5(:n::text)::uuid, '{}');
";

/// The shape before group commit: one transaction per event, the delivery's log row last.
fn single() -> String {
    format!(
        "\\set n random(1, 2000000000)\nbegin;\n{CLAIM}{HANDLER}{}\ncommit;\n",
        r"insert into stripe_deliveries (id, event_id, event_type, headers, payload, connect, outcome, error) values (gen_random_uuid(), 'evt_pg' || :n, 'customer.subscription.updated', '{}', '\x00', false, 'applied', null);"
    )
}

/// The shape before the single-transaction ingest: the raw delivery, the claim and handler, and the
/// delivery's outcome, each committed on its own.
fn three_commits() -> String {
    format!(
        "\\set n random(1, 2000000000)\n{}\nbegin;\n{CLAIM}{HANDLER}{}\ncommit;\n{}\n",
        r"insert into stripe_deliveries (id, event_id, event_type, headers, payload, connect) values (gen_random_uuid(), 'evt_pg' || :n, 'customer.subscription.updated', '{}', '\x00', false);",
        r"update stripe_events set outcome = 'applied', applied_at = now() where event_id = 'evt_pg' || :n;",
        r"update stripe_deliveries set outcome = 'applied', error = null where event_id = 'evt_pg' || :n;"
    )
}

/// [`GROUP`] events of `event`'s statements in one transaction.
fn group(event: &str) -> String {
    let mut script = String::new();
    for i in 0..GROUP {
        script.push_str(&format!("\\set n{i} random(1, 2000000000)\n"));
    }
    script.push_str("begin;");
    for i in 0..GROUP {
        script.push_str(&event.replace(":n", &format!(":n{i}")));
    }
    script.push_str("commit;\n");
    script
}

/// The pgbench script for `BENCH_PGBENCH_SHAPE` (its name, the script and the events per
/// transaction).
pub(crate) fn script() -> anyhow::Result<(String, String, u64)> {
    let shape = std::env::var("BENCH_PGBENCH_SHAPE").unwrap_or_else(|_| "group".to_owned());
    let (script, events) = match shape.as_str() {
        "group" => (group(GROUP_EVENT), GROUP),
        "group-six" => (group(GROUP_SIX_EVENT), GROUP),
        "single" => (single(), 1),
        "three-commits" => (three_commits(), 1),
        other => anyhow::bail!(
            "BENCH_PGBENCH_SHAPE: {other}? (group, group-six, single or three-commits)"
        ),
    };
    Ok((shape, script, events))
}
