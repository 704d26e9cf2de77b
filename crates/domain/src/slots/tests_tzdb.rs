//! The slot engine on DST days with the host's time zone database out of reach: the test
//! re-runs itself in a child process whose `TZDIR` is a directory without any zone (jiff reads
//! `TZDIR` once per process, so it must be set before the first lookup, hence the child). Every
//! zone must then come from the copy bundled into the binary (`tzdb-bundle-always`, see
//! `crate::tzdb`).
//!
//! Why not an empty `TZDIR`: jiff ignores a `TZDIR` without files and falls through to
//! `/usr/share/zoneinfo`, so on a host with tzdata such a test could not fail. A `TZDIR` holding
//! one non-zone file is taken as the database, and the host's zones really are unreachable; the
//! child asserts that first.

use super::fixtures::*;
use super::*;
use std::process::Command;

const CHILD: &str = "SLOTBOOK_TZDB_CHILD";
const MARKER: &str = "slot engine ran without the host tzdb";

/// Zone, local day's window (UTC), expected hourly starts for local hours 01:00–04:00.
const CASES: &[(&str, (&str, &str), &[&str])] = &[
    // 02:00 CET jumps to 03:00 CEST: three local hours are two real ones.
    (
        "Europe/Berlin",
        ("2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z"),
        &["2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"],
    ),
    // 03:00 CEST falls back to 02:00 CET: 01:00 CEST = 23:00Z .. 04:00 CET = 03:00Z.
    (
        "Europe/Berlin",
        ("2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z"),
        &[
            "2027-10-30T23:00:00Z",
            "2027-10-31T00:00:00Z",
            "2027-10-31T01:00:00Z",
            "2027-10-31T02:00:00Z",
        ],
    ),
    // 02:00 EST jumps to 03:00 EDT: 01:00 EST = 06:00Z .. 04:00 EDT = 08:00Z.
    (
        "America/New_York",
        ("2027-03-14T05:00:00Z", "2027-03-15T04:00:00Z"),
        &["2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z"],
    ),
    // 02:00 EDT falls back to 01:00 EST: 01:00 EDT = 05:00Z .. 04:00 EST = 09:00Z.
    (
        "America/New_York",
        ("2027-11-07T04:00:00Z", "2027-11-08T05:00:00Z"),
        &[
            "2027-11-07T05:00:00Z",
            "2027-11-07T06:00:00Z",
            "2027-11-07T07:00:00Z",
            "2027-11-07T08:00:00Z",
        ],
    ),
];

#[test]
fn dst_slots_resolve_without_the_host_tzdb() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let dir = std::env::temp_dir().join(format!("slotbook-tzdb-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("Placeholder")).unwrap();
    std::fs::write(dir.join("Placeholder/NotAZone"), "not TZif data\n").unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "slots::tests_tzdb::dst_slots_resolve_without_the_host_tzdb",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("TZDIR", &dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // libtest exits 0 when the filter matches nothing: the marker proves the child ran.
    assert!(
        stdout.contains(MARKER) || stderr.contains(MARKER),
        "the child did not run the test\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

fn child() {
    let tzdir = std::env::var_os("TZDIR").unwrap();
    for zone in ["Europe/Berlin", "America/New_York"] {
        assert!(
            jiff::tz::db().get(zone).is_err(),
            "the host database must be out of reach (TZDIR={tzdir:?}), or this test proves nothing"
        );
    }
    for (zone, (from, to), expected) in CASES {
        let inputs = single(
            event_type(60, 60),
            sched(zone, &[("01:00", "04:00")]),
            "2027-01-01T00:00:00Z",
        );
        let got = list_slots(&inputs, window(from, to));
        assert_eq!(starts(&got), *expected, "{zone} {from}");
        for s in &got.slots {
            assert_eq!(
                s.end,
                s.start + mins(60),
                "{zone}: a slot lasts 60 real minutes"
            );
            assert_eq!(check_slot(&inputs, s.start), Ok(*s), "{zone}: check");
        }
    }
    println!("{MARKER}");
}
