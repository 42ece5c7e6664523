//! CPU work of background jobs, below the requests.
//!
//! A job handler runs inside [`as_background`]; the CPU-heavy steps it takes (laying out a
//! slip or a result as PDF, making a page of a scan, signing with a key held here) go through
//! [`cpu`], which runs them on a small rayon pool of threads under Linux's `SCHED_IDLE` (and
//! niceness [`NICENESS`]) instead of tokio's blocking threads (the layout's own parallel parts
//! stay on that pool). Under load the scheduler gives those threads a sliver of the CPU a
//! request's thread gets (weight 3 against 1,024), and a request's thread that wakes takes the
//! core from them at once, so a receipt at the counter and a citizen's tracking page do not
//! wait behind the slips queued for signing, which catch up when the counter is quiet.
//! The same steps taken for a request (a receipt printed at the counter) run at the normal
//! priority.
//!
//! Only pure CPU work goes to the pool: a thread that held a database connection or a lock
//! the requests need would make them wait at its low priority. The async part of a job (its
//! queries) stays on the shared runtime.

use std::future::Future;
use std::sync::LazyLock;

/// The niceness of the background CPU threads.
pub const NICENESS: i32 = 19;

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `f` as background work: its [`cpu`] steps go to the low-priority threads.
pub async fn as_background<F: Future>(f: F) -> F::Output {
    BACKGROUND.scope((), f).await
}

/// Whether the calling task runs background work ([`as_background`]).
pub fn is_background() -> bool {
    BACKGROUND.try_with(|_| ()).is_ok()
}

/// The low-priority threads, a rayon pool of their own: the PDF layout parallelises on rayon
/// (typst's layout, krilla's compression of each page's streams), and inside this pool those
/// parts run on the same low-priority threads. On rayon's global pool they would run at the
/// normal priority beside the requests, whatever thread started them.
static POOL: LazyLock<Option<rayon::ThreadPool>> = LazyLock::new(start_pool);

fn start_pool() -> Option<rayon::ThreadPool> {
    // The global pool (the counter's own receipts) takes the priority of the thread that
    // starts it: start it here, at the caller's, before any niced thread can.
    let _ = rayon::current_num_threads();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("motcua-bg-{i}"))
        .start_handler(|_| lower_priority())
        .build();
    match pool {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the background CPU threads");
            None
        }
    }
}

/// Lowers the calling thread's CPU priority: Linux's `SCHED_IDLE` policy, and niceness
/// [`NICENESS`] (which is what remains where the policy cannot be set). Both apply to one
/// thread, not to the process. Under `SCHED_IDLE` a request's thread that wakes up (an answer
/// from the database, a new connection) takes the core at once; at niceness 19 alone the
/// scheduler may first let the background thread finish its time slice. A thread already
/// nicer keeps its niceness; a failure is logged and the work runs at the normal priority.
pub fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    ) {
        tracing::debug!(error = ?e, "cannot put a background thread under SCHED_IDLE");
    }
    let now = rustix::process::getpriority_process(None).unwrap_or(0);
    if now < NICENESS
        && let Err(e) = rustix::process::setpriority_process(None, NICENESS)
    {
        tracing::debug!(error = %e, "cannot lower a background thread's priority");
    }
}

/// Runs the CPU work `f` off the async threads: on the low-priority threads inside
/// [`as_background`], else on tokio's blocking threads. `Err` if the work panicked.
pub async fn cpu<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if is_background()
        && let Some(pool) = POOL.as_ref()
    {
        let (done, result) = tokio::sync::oneshot::channel();
        pool.spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = done.send(out);
        });
        return match result.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err("background work panicked".to_owned()),
            Err(e) => Err(e.to_string()),
        };
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether this thread runs under `SCHED_IDLE`.
    fn idle_policy() -> bool {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        thread_priority::thread_schedule_policy().unwrap()
            == ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
    }

    /// This thread's niceness (Linux's `/proc`).
    fn niceness() -> i64 {
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        let rest = stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn background_work_runs_below_the_requests() {
        let base = niceness();
        let request = cpu(niceness).await.unwrap();
        assert_eq!(request, base, "a request's CPU work keeps its priority");
        assert!(!is_background());
        let job = as_background(async {
            assert!(is_background());
            cpu(niceness).await.unwrap()
        })
        .await;
        assert!(job >= i64::from(NICENESS), "{job}");
        assert!(job > base || base >= i64::from(NICENESS));
        assert!(
            !cpu(idle_policy).await.unwrap(),
            "requests stay SCHED_OTHER"
        );
        assert!(as_background(cpu(idle_policy)).await.unwrap());
        // The layout's parallel parts (rayon) stay below the requests too.
        let (a, b) = as_background(cpu(|| {
            rayon::join(
                || {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    niceness()
                },
                || {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    niceness()
                },
            )
        }))
        .await
        .unwrap();
        assert!(
            a >= i64::from(NICENESS) && b >= i64::from(NICENESS),
            "{a} {b}"
        );
        let (a, b) = as_background(cpu(|| rayon::join(idle_policy, idle_policy)))
            .await
            .unwrap();
        assert!(a && b);
        // The calling thread is untouched.
        assert_eq!(niceness(), base);
        let panicked = as_background(cpu(|| -> u8 { panic!("boom") })).await;
        assert!(panicked.is_err());
    }
}
