//! Waiting for a component's children together.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Runs every future to completion concurrently and returns their outputs in order, or the first
/// error (the others are dropped).
///
/// `futures::future::try_join_all` does the same but, past 30 futures, through `FuturesOrdered`,
/// which allocates and wakes per future. Children on an in-process cache are almost always ready
/// at their first poll, so a page of a hundred cached children is faster polled in a plain loop.
pub(crate) async fn join_all<T, E, F>(futures: impl IntoIterator<Item = F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    let mut pending: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|future| Some(Box::pin(future))).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    let mut remaining = pending.len();
    poll_fn(|cx| {
        for (slot, output) in pending.iter_mut().zip(done.iter_mut()) {
            let Some(future) = slot else { continue };
            if let Poll::Ready(result) = future.as_mut().poll(cx) {
                *slot = None;
                remaining -= 1;
                match result {
                    Ok(value) => *output = Some(value),
                    Err(error) => return Poll::Ready(Err(error)),
                }
            }
        }
        if remaining == 0 {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(done
        .into_iter()
        .map(|output| output.expect("every future finished"))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn outputs_come_back_in_order_whatever_order_they_finish_in() {
        let futures = (0..40u64).map(|i| async move {
            tokio::time::sleep(Duration::from_millis(40 - i)).await;
            Ok::<u64, ()>(i)
        });
        assert_eq!(join_all(futures).await.unwrap(), (0..40).collect::<Vec<_>>());
    }

    /// The error that comes first ends the join, without waiting for the others: the second
    /// future never finishes (no timing involved, so a loaded machine can't reorder them).
    #[tokio::test]
    async fn the_first_error_wins() {
        let futures = (0..3u64).map(|i| {
            Box::pin(async move {
                if i == 1 {
                    std::future::pending::<()>().await;
                }
                if i == 0 { Ok(i) } else { Err(i) }
            })
        });
        assert_eq!(join_all(futures).await, Err(2));
    }
}
