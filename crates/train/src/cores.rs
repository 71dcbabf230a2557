//! Independent pieces of work shared out over the machine's cores (the
//! folds of a cross-validation, the resamples of a bootstrap), results in
//! the order of the work, so the outcome does not depend on the number of
//! threads. Written on `std::thread::scope` rather than taking rayon: one
//! small function is all the trainer needs.

/// `f` of every item, in item order, the items shared out over the cores.
pub(crate) fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    on_threads(cores, items, f)
}

/// [`on_all_cores`] on at most `threads` threads.
fn on_threads<T: Sync, R: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order_whatever_the_threads() {
        for items in 0..9u64 {
            let input: Vec<u64> = (0..items).collect();
            let sequential: Vec<u64> = input.iter().map(|x| x * x + 1).collect();
            for threads in 1..6 {
                assert_eq!(
                    on_threads(threads, &input, |x| x * x + 1),
                    sequential,
                    "{items} items, {threads} threads"
                );
            }
        }
        assert_eq!(on_all_cores(&[3u8, 1, 2], |x| *x), [3, 1, 2]);
    }
}
