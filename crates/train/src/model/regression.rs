//! Weighted L2-regularised logistic regression by Newton's method (IRLS).
//!
//! Written here because the design's crates do not fit: linfa-logistic 0.8
//! ignores sample weights (linfa-logistic 0.8.1's `fit` does not read dataset
//! weights), and IPCW needs them. With a few dozen design columns, Newton's
//! method with a Cholesky solve converges in a handful of iterations and is
//! exact and deterministic.

use carescore_core::artifact::sigmoid;

/// A fitted logistic model.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// Intercept (not penalised).
    pub intercept: f64,
    /// Coefficients, one per column.
    pub coefficients: Vec<f64>,
    /// Newton iterations used.
    pub iterations: usize,
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// No positive weight on one of the classes.
    #[error("the labels have only one class (need events and non-events)")]
    OneClass,
    /// The Newton system could not be solved.
    #[error("the fit did not converge (singular system)")]
    Singular,
}

/// Solves `a x = b` for a symmetric positive-definite `a` (n x n, row-major).
fn cholesky_solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(b)
}

/// Fits `P(y = 1 | x) = sigmoid(b0 + x·b)` minimising the weighted log-loss
/// plus `l2 / 2 · |b|²` over `rows` x `cols` row-major `x`.
///
/// # Errors
/// [`FitError::OneClass`] when either class has no weight; [`FitError::Singular`]
/// if the Newton system cannot be solved.
pub fn fit(x: &[f64], cols: usize, y: &[bool], w: &[f64], l2: f64) -> Result<LogisticFit, FitError> {
    let rows = y.len();
    let positive: f64 = y.iter().zip(w).filter(|(y, _)| **y).map(|(_, w)| w).sum();
    let total: f64 = w.iter().sum();
    if positive <= 0.0 || positive >= total {
        return Err(FitError::OneClass);
    }
    let p = cols + 1;
    let mut beta = vec![0.0; p];
    beta[0] = (positive / (total - positive)).ln();
    let mut iterations = 0;
    for _ in 0..50 {
        iterations += 1;
        let mut gradient = vec![0.0; p];
        let mut hessian = vec![0.0; p * p];
        let mut xi = vec![1.0; p];
        for i in 0..rows {
            if w[i] == 0.0 {
                continue;
            }
            xi[1..].copy_from_slice(&x[i * cols..(i + 1) * cols]);
            let eta: f64 = beta.iter().zip(&xi).map(|(b, v)| b * v).sum();
            let prob = sigmoid(eta);
            let residual = w[i] * (prob - f64::from(u8::from(y[i])));
            let curvature = w[i] * prob * (1.0 - prob);
            for a in 0..p {
                gradient[a] += residual * xi[a];
                let ca = curvature * xi[a];
                if ca != 0.0 {
                    for b in 0..=a {
                        hessian[a * p + b] += ca * xi[b];
                    }
                }
            }
        }
        for a in 0..p {
            for b in 0..a {
                hessian[b * p + a] = hessian[a * p + b];
            }
        }
        for a in 1..p {
            gradient[a] += l2 * beta[a];
            hessian[a * p + a] += l2;
        }
        // A tiny ridge keeps the system solvable for constant columns.
        for a in 0..p {
            hessian[a * p + a] += 1e-9 * total;
        }
        let step = cholesky_solve(hessian, gradient, p).ok_or(FitError::Singular)?;
        let mut largest: f64 = 0.0;
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
            largest = largest.max(s.abs());
        }
        if largest < 1e-8 {
            break;
        }
    }
    Ok(LogisticFit {
        intercept: beta[0],
        coefficients: beta[1..].to_vec(),
        iterations,
    })
}

/// The log-odds of row `i` under `fit`.
pub fn raw(fit: &LogisticFit, row: &[f64]) -> f64 {
    fit.intercept + fit.coefficients.iter().zip(row).map(|(c, x)| c * x).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn recovers_known_coefficients() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 20_000;
        let mut x = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let (a, b): (f64, f64) = (rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0));
            x.extend([a, b]);
            y.push(rng.gen::<f64>() < sigmoid(-1.0 + 0.8 * a - 0.5 * b));
        }
        let fit = fit(&x, 2, &y, &vec![1.0; n], 0.0).unwrap();
        assert!((fit.intercept + 1.0).abs() < 0.06, "{fit:?}");
        assert!((fit.coefficients[0] - 0.8).abs() < 0.06, "{fit:?}");
        assert!((fit.coefficients[1] + 0.5).abs() < 0.06, "{fit:?}");
    }

    #[test]
    fn weights_act_as_replication() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [false, true, false, true];
        let weighted = fit(&x, 1, &y, &[1.0, 2.0, 1.0, 1.0], 0.0).unwrap();
        let replicated = fit(
            &[0.0, 1.0, 1.0, 2.0, 3.0],
            1,
            &[false, true, true, false, true],
            &[1.0; 5],
            0.0,
        )
        .unwrap();
        assert!((weighted.intercept - replicated.intercept).abs() < 1e-9);
        assert!((weighted.coefficients[0] - replicated.coefficients[0]).abs() < 1e-9);
    }

    #[test]
    fn one_class_is_an_error() {
        assert_eq!(
            fit(&[1.0, 2.0], 1, &[true, true], &[1.0, 1.0], 1.0),
            Err(FitError::OneClass)
        );
    }

    #[test]
    fn penalty_shrinks() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [false, false, true, false, true, true];
        let loose = fit(&x, 1, &y, &[1.0; 6], 0.0).unwrap();
        let tight = fit(&x, 1, &y, &[1.0; 6], 100.0).unwrap();
        assert!(tight.coefficients[0].abs() < loose.coefficients[0].abs() / 5.0);
    }
}
