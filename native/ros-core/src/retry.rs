// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! The retry budget: retries may not exceed a fraction of calls, so that a failing service is
//! not hammered by a retry storm (the approach of Finagle's `RetryBudget`).
//!
//! Every call deposits `ratio` of a retry; a retry withdraws one. On top, a small allowance of
//! `min_per_second` retries lets a client with little traffic still retry. Deposits are capped so
//! that a long quiet period does not save up a storm.

use parking_lot::{Mutex, MutexGuard};

use tokio::time::Instant;

/// Deposits are kept for at most this many calls' worth.
const DEPOSIT_WINDOW_CALLS: f64 = 1000.0;

/// See the module documentation.
pub(crate) struct RetryBudget {
    ratio: f64,
    min_per_second: f64,
    state: Mutex<State>,
}

struct State {
    deposits: f64,
    allowance: f64,
    refilled_at: Instant,
}

impl RetryBudget {
    pub(crate) fn new(ratio: f64, min_per_second: u32) -> RetryBudget {
        RetryBudget {
            ratio,
            min_per_second: f64::from(min_per_second),
            state: Mutex::new(State {
                deposits: 0.0,
                allowance: f64::from(min_per_second),
                refilled_at: Instant::now(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// A call was made.
    pub(crate) fn deposit(&self) {
        if self.ratio > 0.0 {
            let mut state = self.state();
            state.deposits = (state.deposits + self.ratio).min(self.ratio * DEPOSIT_WINDOW_CALLS);
        }
    }

    /// Takes one retry from the budget, if there is one.
    pub(crate) fn try_withdraw(&self) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.refilled_at);
        state.refilled_at = now;
        state.allowance = (state.allowance + elapsed.as_secs_f64() * self.min_per_second)
            .min(self.min_per_second);
        if state.allowance >= 1.0 {
            state.allowance -= 1.0;
            true
        } else if state.deposits >= 1.0 {
            state.deposits -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The most retries the budget allows for `calls` calls made over `elapsed`.
#[cfg(test)]
pub(crate) fn bound(
    calls: u64,
    elapsed: std::time::Duration,
    ratio: f64,
    min_per_second: u32,
) -> f64 {
    calls as f64 * ratio + f64::from(min_per_second) * (1.0 + elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stay_within_ratio_plus_allowance() {
        let budget = RetryBudget::new(0.1, 5);
        let start = std::time::Instant::now();
        let mut allowed = 0;
        for _ in 0..10_000 {
            budget.deposit();
            if budget.try_withdraw() {
                allowed += 1;
            }
        }
        let bound = bound(10_000, start.elapsed(), 0.1, 5);
        assert!(allowed as f64 <= bound, "{allowed} > {bound}");
        assert!(allowed >= 1000, "the ratio is usable: {allowed}");
    }

    #[test]
    fn a_zero_budget_allows_only_the_allowance() {
        let budget = RetryBudget::new(0.0, 2);
        for _ in 0..100 {
            budget.deposit();
        }
        assert!(budget.try_withdraw());
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw());
    }

    #[test]
    fn deposits_do_not_pile_up_forever() {
        let budget = RetryBudget::new(0.5, 0);
        for _ in 0..1_000_000 {
            budget.deposit();
        }
        let mut allowed = 0;
        while budget.try_withdraw() {
            allowed += 1;
        }
        assert_eq!(allowed, 500);
    }
}
