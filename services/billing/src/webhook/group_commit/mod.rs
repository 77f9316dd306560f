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
};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

use super::{Delivery, Outcome, event::StripeEvent, no_connection, write::Writer};
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

/// One writer: takes what is queued (up to [`MAX_GROUP`]) and writes it as one group. Each group
/// runs as a task of its own, so a panic in a handler fails that group's deliveries (their waiters
/// see the writer's error), not the writer.
async fn run(writer: Writer, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        let group = std::mem::replace(&mut jobs, Vec::with_capacity(MAX_GROUP));
        let _ = tokio::spawn(write_group(writer.clone(), group)).await;
    }
}

async fn write_group(writer: Writer, jobs: Vec<Job>) {
    if let [job] = jobs.as_slice() {
        let result = writer
            .alone(&job.event, &job.delivery)
            .instrument(job.span.clone())
            .await;
        return answer_all(jobs, vec![result]);
    }
    let together = writer
        .together(jobs.iter().map(|job| (&job.event, &job.delivery)))
        .await;
    let results = match together {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        // No connection to be had: writing each alone would wait out the pool's timeout again, once
        // per delivery. Every one answers as the group did (503, Stripe retries).
        Err(error) if no_connection(&error) => jobs
            .iter()
            .map(|_| Err(sqlx::Error::PoolTimedOut.into()))
            .collect(),
        Err(_) => {
            tracing::info!(
                deliveries = jobs.len(),
                "a group of webhook deliveries rolled back; writing each alone"
            );
            let mut results = Vec::with_capacity(jobs.len());
            for job in &jobs {
                let result = writer
                    .alone(&job.event, &job.delivery)
                    .instrument(job.span.clone())
                    .await;
                results.push(result);
            }
            results
        }
    };
    answer_all(jobs, results);
}

fn answer_all(jobs: Vec<Job>, results: Vec<Result<Outcome, BillingError>>) {
    for (job, result) in jobs.into_iter().zip(results) {
        // The waiter may be gone (the request was cancelled); what was written stays written.
        let _ = job.reply.send((job.event, result));
    }
}

#[cfg(test)]
mod tests;
