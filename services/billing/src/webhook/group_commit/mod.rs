//! Group commit: the deliveries that arrive while a writer is busy are written together in its next
//! transaction, so one `BEGIN`/`COMMIT`, one commit record and one WAL flush serve several of them; each acknowledgement
//! still waits for the commit that made its own delivery durable. Nothing waits on a timer: a lone
//! delivery is written at once, as it would be without grouping.
//!
//! Deliveries are spread over a few writers by the subscription they concern (else by event id), so
//! a duplicate and its original, or two events of one subscription, always meet in one writer's
//! queue rather than in two open transactions waiting on each other's locks; and writers work in
//! parallel. A group that fails in any way — one handler's error, a deadlock with another
//! transaction, a lost connection — is rolled back whole, and each of its deliveries is then written
//! alone: one bad delivery fails only itself (and is logged as failed), its neighbours are applied.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use sqlx::{Postgres, pool::PoolConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

use super::{Delivery, Outcome, event::StripeEvent, write::Writer};
use crate::error::BillingError;

/// Writers working in parallel. Measured with the `webhook_ingest` bench (16 deliveries in flight, on
/// 2 cores): 2 writers spent the least CPU per delivery but capped throughput (a writer waits on
/// Postgres for every statement); 4 kept the throughput of one transaction per delivery at nearly the
/// same CPU.
const WRITERS: usize = 4;

/// At most this many deliveries in one transaction.
const MAX_GROUP: usize = 32;

/// A delivery waiting for its group's commit.
#[derive(Debug)]
struct Job {
    event: StripeEvent,
    delivery: Delivery,
    /// The request's span, so what the handler logs stays in the delivery's trace.
    span: tracing::Span,
    reply: oneshot::Sender<(StripeEvent, Result<Outcome, BillingError>)>,
}

/// The writers' queues. Cheap to clone; the writers stop when every clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    queues: Arc<[mpsc::Sender<Job>]>,
}

impl GroupCommit {
    /// Starts the writers (on the current Tokio runtime).
    pub(crate) fn start(writer: &Writer) -> Self {
        let queues = (0..WRITERS)
            .map(|_| {
                let (sender, receiver) = mpsc::channel(1024);
                tokio::spawn(run(writer.clone(), receiver));
                sender
            })
            .collect();
        Self { queues }
    }

    /// Writes a verified delivery; returns once its group committed (or it failed).
    pub(crate) async fn write(
        &self,
        event: StripeEvent,
        delivery: Delivery,
    ) -> Result<(StripeEvent, Outcome), BillingError> {
        let mut hasher = DefaultHasher::new();
        event
            .subscription_id()
            .unwrap_or(&event.id)
            .hash(&mut hasher);
        let queue = &self.queues[(hasher.finish() % self.queues.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        let job = Job {
            event,
            delivery,
            span: tracing::Span::current(),
            reply,
        };
        queue.send(job).await.map_err(|_| stopped())?;
        let (event, result) = answer.await.map_err(|_| stopped())?;
        result.map(|outcome| (event, outcome))
    }
}

fn stopped() -> BillingError {
    BillingError::Unexpected(anyhow::anyhow!("the webhook writer stopped"))
}

/// How long a writer keeps its connection while nothing is queued, before handing it back to the pool.
const KEEP_IDLE: Duration = Duration::from_secs(1);

/// A connection a writer holds from one group to the next.
type Held = PoolConnection<Postgres>;

/// One writer: takes what is queued (up to [`MAX_GROUP`]) and writes it as one group. Each group
/// runs as a task of its own, so a panic in a handler fails that group's deliveries (their waiters
/// see the writer's error), not the writer.
///
/// The writer keeps its connection from one group to the next while deliveries keep coming: taking
/// one from the pool per group costs a round trip to Postgres (sqlx pings every connection it takes
/// back) and the pool's own bookkeeping. It hands the connection back after [`KEEP_IDLE`] with
/// nothing to write, and after any failure (the pool's ping then finds a dead one).
async fn run(writer: Writer, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    let mut held: Option<Held> = None;
    loop {
        let received = if held.is_some() {
            // `recv_many` is cancel-safe: nothing queued is lost when the wait times out.
            match tokio::time::timeout(KEEP_IDLE, queue.recv_many(&mut jobs, MAX_GROUP)).await {
                Ok(received) => received,
                Err(_idle) => {
                    held = None;
                    continue;
                }
            }
        } else {
            queue.recv_many(&mut jobs, MAX_GROUP).await
        };
        if received == 0 {
            break;
        }
        let group = std::mem::replace(&mut jobs, Vec::with_capacity(MAX_GROUP));
        held = tokio::spawn(write_group(writer.clone(), held.take(), group))
            .await
            .ok()
            .flatten();
    }
}

/// Writes `jobs` on `held` (or on a connection from the pool) and answers each. Returns the
/// connection when everything was written without an error, for the next group.
async fn write_group(writer: Writer, held: Option<Held>, jobs: Vec<Job>) -> Option<Held> {
    let mut conn = match held {
        Some(conn) => conn,
        None => match writer.pool.acquire().await {
            Ok(conn) => conn,
            Err(error) => {
                // No connection to be had: each delivery answers so (503, Stripe retries).
                let results = jobs
                    .iter()
                    .map(|_| Err(no_connection_for(&error)))
                    .collect();
                answer_all(jobs, results);
                return None;
            }
        },
    };
    if let [job] = jobs.as_slice() {
        let result = writer
            .alone(&mut conn, &job.event, &job.delivery)
            .instrument(job.span.clone())
            .await;
        let written = result.is_ok();
        answer_all(jobs, vec![result]);
        return written.then_some(conn);
    }
    let together = writer
        .together(
            &mut conn,
            jobs.iter().map(|job| (&job.event, &job.delivery)),
        )
        .await;
    if let Ok(outcomes) = together {
        answer_all(jobs, outcomes.into_iter().map(Ok).collect());
        return Some(conn);
    }
    // The connection goes back to the pool (which pings it, and drops it if it died); each
    // delivery is written again alone on a connection of its own, as it would be without grouping.
    drop(conn);
    tracing::info!(
        deliveries = jobs.len(),
        "a group of webhook deliveries rolled back; writing each alone"
    );
    let mut results = Vec::with_capacity(jobs.len());
    // Once no connection can be had, the rest answer so at once rather than each waiting out the
    // pool's timeout again.
    let mut unobtainable = None;
    for job in &jobs {
        let acquired = match &unobtainable {
            Some(error) => Err(no_connection_for(error)),
            None => writer.pool.acquire().await.map_err(|error| {
                let answer = no_connection_for(&error);
                unobtainable = Some(error);
                answer
            }),
        };
        let result = match acquired {
            Ok(mut conn) => {
                writer
                    .alone(&mut conn, &job.event, &job.delivery)
                    .instrument(job.span.clone())
                    .await
            }
            Err(answer) => Err(answer),
        };
        results.push(result);
    }
    answer_all(jobs, results);
    None
}

/// The answer for a delivery that got no connection because of `error` (sqlx's error cannot be
/// cloned to answer several): a pool timeout or a closed pool as such, anything else as the lost
/// connection it is (each answers 503 with `Retry-After`; see `onramp_kit::db::is_transient`).
fn no_connection_for(error: &sqlx::Error) -> BillingError {
    match error {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut.into(),
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed.into(),
        other => sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            format!("no database connection: {other}"),
        ))
        .into(),
    }
}

fn answer_all(jobs: Vec<Job>, results: Vec<Result<Outcome, BillingError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        // The waiter may be gone (the request was cancelled); what was written stays written.
        let _ = job.reply.send((job.event, result));
    }
}

#[cfg(test)]
mod tests;
