//! The side-by-side figure of the stores' booking benchmarks (`benches/bookings.rs`): several
//! operations timed in interleaved rounds on one database, each round's rate divided by the
//! baseline's rate in the same round, and the median of those ratios reported. Adjacent
//! windows see the same file size, cache and disk state, so a ratio survives the shared
//! machine's drifting fsync latency better than two totals measured minutes apart.

use futures::future::LocalBoxFuture;
use std::time::Instant;

/// One timed operation: each call starts one run of it.
pub type Op<'a> = (&'static str, Box<dyn Fn() -> LocalBoxFuture<'a, ()> + 'a>);

/// One operation's figures over all rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    /// Median operations per second over the rounds.
    pub rate: f64,
    /// Median over the rounds of this operation's rate ÷ the baseline's rate (the last
    /// operation's; 1 for the baseline itself).
    pub ratio: f64,
}

/// Runs every operation `per_round` times in each of `rounds` rounds, in order, and reports
/// them; the last operation is the baseline.
pub async fn measure(rounds: usize, per_round: usize, ops: &[Op<'_>]) -> Vec<Figure> {
    let mut rates: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); ops.len()];
    for _ in 0..rounds {
        for (i, (_, op)) in ops.iter().enumerate() {
            let started = Instant::now();
            for _ in 0..per_round {
                op().await;
            }
            rates[i].push(per_round as f64 / started.elapsed().as_secs_f64());
        }
    }
    let base = rates.last().cloned().unwrap_or_default();
    ops.iter()
        .zip(&rates)
        .map(|((name, _), r)| Figure {
            name,
            rate: median(r.clone()),
            ratio: median(r.iter().zip(&base).map(|(a, b)| a / b).collect()),
        })
        .collect()
}

/// One line: each figure's rate and ratio.
pub fn report(rounds: usize, per_round: usize, figures: &[Figure]) -> String {
    let parts: Vec<String> = figures
        .iter()
        .map(|f| format!("{} {:.0}/s (ratio {:.2})", f.name, f.rate, f.ratio))
        .collect();
    format!(
        "side-by-side, {rounds} interleaved rounds x {per_round}, medians: {}",
        parts.join(", ")
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[tokio::test]
    async fn every_operation_runs_per_round_times_each_round_and_the_baseline_is_one() {
        let calls = [Cell::new(0), Cell::new(0)];
        let op = |i: usize| -> Op<'_> {
            let calls = &calls;
            (
                if i == 0 { "a" } else { "b" },
                Box::new(move || Box::pin(async move { calls[i].set(calls[i].get() + 1) })),
            )
        };
        let ops = [op(0), op(1)];
        let figures = measure(3, 4, &ops).await;
        assert_eq!((calls[0].get(), calls[1].get()), (12, 12));
        assert_eq!(figures.len(), 2);
        assert_eq!(figures[1].ratio, 1.0);
        assert!(figures[0].rate > 0.0 && figures[0].ratio > 0.0);
        assert!(report(3, 4, &figures).starts_with("side-by-side, 3 interleaved rounds x 4"));
    }
}
