//! How the batch routes (`/v1/score/batch`, `/v1/models/{target}/score/batch`)
//! read their body (`{"records": [...]}`, 1 to [`MAX_BATCH`] items, each
//! left raw so a bad one gets its own error) and spread the items over the
//! cores: in contiguous chunks of at least [`ITEMS_PER_THREAD`] (fewer are
//! not worth a thread), results in item order.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::problem::Problem;

/// Most items in one batch.
pub(crate) const MAX_BATCH: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
}

/// The raw items of a batch body; `items` names them in errors (e.g.
/// "patient records").
///
/// # Errors
/// 400 for a body that is not JSON; 422 for one that is not
/// `{"records": [...]}` with 1 to [`MAX_BATCH`] items.
pub(crate) fn items<'a>(bytes: &'a [u8], items: &str) -> Result<Vec<&'a RawValue>, Problem> {
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(Problem::bad_json(format!("the body is not valid JSON: {error}")));
    }
    let not_a_batch = || {
        Problem::invalid_request(
            "records",
            format!("the body must be an object with one key, `records`, an array of {items}"),
            format!("{{\"records\": [...]}} with 1 to {MAX_BATCH} {items}"),
        )
    };
    // serde reads a struct from an array of its fields too (`[[...]]`): only an object is a batch.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(not_a_batch());
    }
    let request: BatchRequest<'_> = serde_json::from_slice(bytes).map_err(|_| not_a_batch())?;
    let n = request.records.len();
    if n == 0 || n > MAX_BATCH {
        return Err(Problem::invalid_request(
            "records",
            format!("{n} {items} sent"),
            format!("1 to {MAX_BATCH} {items}"),
        ));
    }
    Ok(request.records)
}

/// Fewest items worth a thread of their own.
const ITEMS_PER_THREAD: usize = 64;

/// `f(index, item)` for every item, in item order, on up to one thread per
/// core; `None` if a worker panicked (a bug, answered as a 500).
pub(crate) fn on_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Option<Vec<R>> {
    let n = items.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n.div_ceil(ITEMS_PER_THREAD))
        .max(1);
    let chunk = n.div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, item)| f(c * chunk + i, item))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        // Every worker is joined, so a panic in one never leaves another unjoined.
        let parts: Vec<_> = handles.into_iter().map(|handle| handle.join()).collect();
        let mut results = Vec::with_capacity(n);
        for part in parts {
            results.extend(part.ok()?);
        }
        Some(results)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_is_a_batch() {
        for body in [r#"[[{"case_id": "x"}]]"#, "[[]]", r#" "records" "#, "7"] {
            let problem = items(body.as_bytes(), "records").expect_err(body);
            assert_eq!(problem.status(), 422, "{body}");
        }
        assert_eq!(items(br#" {"records": [1, 2]}"#, "records").unwrap().len(), 2);
    }

    #[test]
    fn results_come_in_item_order_with_their_index() {
        for n in [0, 1, 63, 64, 65, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let results = on_cores(&items, |i, x| (i, x * 2)).unwrap();
            assert_eq!(
                results,
                items.iter().map(|x| (*x, x * 2)).collect::<Vec<_>>(),
                "{n} items"
            );
        }
    }
}
