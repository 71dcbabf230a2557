//! Below 20,000 patients the tree families lose no row to tuning: the
//! delivered model is grown on every prepared row (the boosted trees with
//! the folds' mean number of rounds), and the out-of-fold predictions of
//! the k-fold tuning are what calibrates it.

use carescore_core::artifact::{DesignKind, Estimator, Metric};
use carescore_train::family::forest::bagging::{self, ForestParams};
use carescore_train::family::gbdt::booster::{self, GbdtParams};
use carescore_train::model::design::Design;
use carescore_train::model::trees::{Binned, MAX_BINS};
use carescore_train::{family, prepare, Cohort};

mod common;

#[test]
fn tree_families_deliver_a_model_of_every_row_calibrated_out_of_fold() {
    let (_dir, dataset) = common::synthetic_dataset(1_500, 12);
    let options = common::infection_options(4);
    let prepared = prepare(&Cohort::all(&dataset), options).unwrap();
    let rows = prepared.data.y.len();
    let design = Design::encode(&prepared.features, DesignKind::Raw, &prepared.records);
    let binned = Binned::new(&design.values, design.cols, MAX_BINS);
    let every_row: Vec<u32> = (0..rows as u32).collect();

    let boosted = family("gbdt").unwrap().fit(&prepared, &options).unwrap();
    assert_eq!(boosted.heldout, (0..rows).collect::<Vec<_>>(), "every row out of fold");
    assert_eq!(boosted.heldout_raw.len(), rows);
    assert_eq!(boosted.criterion.0, Metric::CvLogLoss);
    assert_eq!(boosted.tuning.len(), 3, "{:?}", boosted.tuning);
    let Estimator::BoostedTrees { trees, .. } = &boosted.estimator else {
        panic!("boosted trees expected");
    };
    // The chosen leaf count is the tried setting with the lowest criterion.
    let chosen = boosted
        .tuning
        .iter()
        .min_by(|a, b| a.criterion.total_cmp(&b.criterion))
        .unwrap();
    let leaves: usize = chosen.setting.split(' ').next().unwrap().parse().unwrap();
    assert!(
        chosen.setting.contains(&format!("({} trees)", trees.len())),
        "{chosen:?}"
    );
    let refitted = booster::fit(
        &binned,
        &prepared.data.y,
        &prepared.data.w,
        &every_row,
        &[],
        &GbdtParams {
            max_leaves: leaves,
            min_rows_in_leaf: 20,
            max_trees: trees.len(),
            ..GbdtParams::default()
        },
    );
    assert!(refitted.trees() == &trees[..], "the booster is the refit on every row");

    let forest = family("forest").unwrap().fit(&prepared, &options).unwrap();
    assert_eq!(forest.heldout, (0..rows).collect::<Vec<_>>(), "every row out of fold");
    assert_eq!(forest.criterion.0, Metric::CvBrierUncalibrated);
    let Estimator::RandomForest { trees } = &forest.estimator else {
        panic!("a forest expected");
    };
    let chosen = forest
        .tuning
        .iter()
        .min_by(|a, b| a.criterion.total_cmp(&b.criterion))
        .unwrap();
    let min_rows_in_leaf: usize = chosen.setting.split(' ').nth(2).unwrap().parse().unwrap();
    let grown = bagging::fit(
        &binned,
        &prepared.data.y,
        &prepared.data.w,
        &every_row,
        &ForestParams {
            min_rows_in_leaf,
            ..ForestParams::for_columns(design.cols)
        },
        options.seed,
    );
    assert!(&grown == trees, "the forest is grown on every row");
    // The out-of-fold votes are not the delivered forest's own (in-sample) votes.
    let in_sample: Vec<f64> = (0..rows).map(|r| bagging::mean_vote(trees, design.row(r))).collect();
    assert_ne!(forest.heldout_raw, in_sample);
}
