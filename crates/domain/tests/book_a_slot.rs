//! Runs `examples/book_a_slot.rs` (the very file `cargo run -p domain --example book_a_slot`
//! builds) and checks what it claims: a week of Berlin office-hour slots, one booking, and the
//! booked slot gone from the second listing.
#![allow(clippy::unwrap_used)]

#[path = "../examples/book_a_slot.rs"]
mod example;

use jiff::Timestamp;

#[test]
fn the_example_books_a_slot_and_it_disappears() {
    let mut out = Vec::new();
    let outcome = futures::executor::block_on(example::run(&mut out)).unwrap();
    let text = String::from_utf8(out).unwrap();

    // Mon-Fri 09:00-17:00 in 30-minute slots: 16 a day, the first at 09:00 Berlin (08:00 UTC
    // in March, before the DST switch).
    assert_eq!(outcome.before.len(), 5 * 16, "{text}");
    let first: Timestamp = "2026-03-23T08:00:00Z".parse().unwrap();
    assert_eq!(outcome.before[0].start, first);

    let booked: Timestamp = "2026-03-24T09:00:00Z".parse().unwrap();
    assert_eq!(outcome.booked.start, booked);
    assert!(outcome.before.iter().any(|s| s.start == booked));
    assert!(!outcome.after.iter().any(|s| s.start == booked));
    let mut expected = outcome.before.clone();
    expected.retain(|s| s.start != booked);
    assert_eq!(outcome.after, expected, "only the booked slot disappears");

    assert!(
        text.contains("slots before booking: 80 in the week"),
        "{text}"
    );
    assert!(
        text.contains("at Tue 2026-03-24 10:00 (2026-03-24T09:00:00Z)"),
        "{text}"
    );
    assert!(
        text.contains("slots after booking: 79 in the week"),
        "{text}"
    );
    assert!(
        text.contains("Tue 2026-03-24: 15 slots 09:00-16:30 (gap after 09:30)"),
        "{text}"
    );
}
