//! A settable clock for tests: the server reads "now" through it, tests move it with
//! [`TestClock::set`] and [`TestClock::advance`] instead of sleeping.

use domain::ports::Clock;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};

/// A shared, settable instant. Clones share the same time.
#[derive(Clone, Debug)]
pub struct TestClock(Arc<Mutex<Timestamp>>);

impl TestClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// The current test instant.
    pub fn get(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }

    /// Moves the clock to `t` (backwards too).
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().expect("clock lock") = t;
    }

    /// Moves the clock by `d`.
    pub fn advance(&self, d: SignedDuration) {
        let mut g = self.0.lock().expect("clock lock");
        *g = g.checked_add(d).expect("clock overflow");
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        self.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_advance_are_shared_by_clones() {
        let c = TestClock::new(Timestamp::UNIX_EPOCH);
        let c2 = c.clone();
        c.advance(SignedDuration::from_secs(61));
        assert_eq!(c2.now().as_second(), 61);
        c2.set(Timestamp::from_second(5).unwrap());
        assert_eq!(c.get().as_second(), 5);
    }
}
