//! The Markdown report: one row per scenario (requests, requests/s, p50, p99, ratio of its
//! requests/s to the bare hello server's in the same run, response statuses), then target
//! verdicts.

use crate::load::Outcome;
use std::fmt::Write as _;

/// The table; `baseline` is the bare server's outcome (ratio 1.00 for itself).
pub fn table(outcomes: &[Outcome], baseline_rps: f64) -> String {
    let mut out = String::new();
    out.push_str("| scenario | requests | req/s | p50 | p99 | ratio to bare | statuses |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---|\n");
    for o in outcomes {
        let rps = o.requests_per_second();
        let ratio = if baseline_rps > 0.0 {
            format!("{:.2}", rps / baseline_rps)
        } else {
            "n/a".to_owned()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} |",
            o.name,
            o.requests,
            rps,
            o.latency_ms(0.50),
            o.latency_ms(0.99),
            ratio,
            statuses(o),
        );
    }
    out
}

/// `200×1234, 409×2` plus `errors×N` when connections failed.
pub fn statuses(o: &Outcome) -> String {
    let mut parts: Vec<String> = o
        .statuses
        .iter()
        .map(|(status, n)| format!("{status}×{n}"))
        .collect();
    if o.errors > 0 {
        parts.push(format!("errors×{}", o.errors));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `PASS`/`FAIL` line for a ratio target.
pub fn verdict(name: &str, ratio: f64, target: f64) -> String {
    verdict_against(name, ratio, "bare", target)
}

/// A target line: `name` is `ratio` × `reference`, PASS when at least `target`.
pub fn verdict_against(name: &str, ratio: f64, reference: &str, target: f64) -> String {
    let mark = if ratio >= target { "PASS" } else { "FAIL" };
    format!("- {name}: {ratio:.3} × {reference} (target ≥ {target:.2}) — {mark}")
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[test]
    fn renders_rows_and_ratios() {
        let mut histogram = hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        histogram.record(1_000).unwrap();
        let o = Outcome {
            name: "GET /".into(),
            requests: 1000,
            elapsed: Duration::from_secs(2),
            histogram,
            statuses: BTreeMap::from([(200, 999), (503, 1)]),
            errors: 0,
            peak_rss_kib: None,
        };
        let t = table(std::slice::from_ref(&o), 1000.0);
        assert!(t.contains("| GET / | 1000 | 500 | 1.00 ms | 1.00 ms | 0.50 | 200×999, 503×1 |"));
        assert!(verdict("x", 0.6, 0.5).ends_with("PASS"));
        assert!(verdict("x", 0.1, 0.2).ends_with("FAIL"));
        assert_eq!(
            verdict_against("y", 0.25, "z", 0.25),
            "- y: 0.250 × z (target ≥ 0.25) — PASS"
        );
        assert_eq!(mib(2048), "2.0 MiB");
    }
}
