//! Per-key rate limits: a token bucket per API key name, refilled at the
//! configured rate with a burst of one second's worth. A key over its rate
//! gets 429 with `Retry-After`; without keys there are no limits.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::problem::{Problem, ProblemKind};

/// Token buckets by key name.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: Option<u32>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Buckets refilled at `per_second` requests per second (`None`: unlimited).
    pub(crate) fn new(per_second: Option<u32>) -> RateLimiter {
        RateLimiter {
            per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket.
    ///
    /// # Errors
    /// 429 with `Retry-After` when the bucket is empty.
    pub(crate) fn admit(&self, key: &str) -> Result<(), Problem> {
        let Some(rate) = self.per_second.filter(|r| *r > 0) else {
            return Ok(());
        };
        let rate = f64::from(rate);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - *tokens) / rate).ceil().max(1.0) as u64;
        Err(Problem::new(
            ProblemKind::RateLimited,
            format!("this key may send {rate} requests per second"),
        )
        .retry_after(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_429_per_key() {
        let limiter = RateLimiter::new(Some(3));
        for _ in 0..3 {
            assert!(limiter.admit("cms").is_ok());
        }
        let refused = limiter.admit("cms").unwrap_err();
        assert_eq!(refused.status(), 429);
        assert_eq!(refused.retry_after, Some(1));
        assert!(limiter.admit("ops").is_ok(), "keys have their own buckets");
        assert!(RateLimiter::new(None).admit("cms").is_ok());
    }
}
