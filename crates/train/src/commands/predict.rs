//! `carescore-train predict`: scores every row of a table with an artifact,
//! the same code path as the service (`carescore-core`). Output: the input's
//! id columns, the probability, the raw output and its scale
//! (`log_odds`, or `vote_share` for forests) and the top factors; rows
//! that fail validation keep their place with no probability and the problems
//! that excluded them (field and rule, never values).

use std::path::Path;

use anyhow::Context;
use carescore_core::artifact::{Explanation, Row};
use carescore_core::{FieldValue, ModelArtifact};
use polars::prelude::{Column, DataFrame};

use crate::args::PredictArgs;

fn shown(value: Option<FieldValue<'_>>) -> String {
    match value {
        None => "missing".to_string(),
        Some(FieldValue::Number(x)) => format!("{x}"),
        Some(FieldValue::Integer(n)) => n.to_string(),
        Some(FieldValue::Boolean(b)) => b.to_string(),
        Some(FieldValue::Text(s)) => s.to_string(),
    }
}

/// The `top` largest contributions of `explanation` (of `record`) as
/// `feature = value (+0.123)`, separated by `; `.
pub fn top_factors(artifact: &ModelArtifact, record: &dyn Row, explanation: &Explanation, top: usize) -> String {
    let mut order: Vec<usize> = (0..artifact.features.len()).collect();
    order.sort_by(|&a, &b| {
        explanation.contributions[b]
            .abs()
            .total_cmp(&explanation.contributions[a].abs())
    });
    order
        .iter()
        .take(top)
        .map(|&i| {
            let name = &artifact.features[i].name;
            let value = record.value(name);
            format!("{name} = {} ({:+.3})", shown(value), explanation.contributions[i])
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs `predict`.
///
/// # Errors
/// An unreadable or refused artifact, unusable data, or a write failure.
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    crate::commands::check_table_path(&args.out)?;
    let artifact = crate::commands::load_artifact(&args.model)?;
    let target = crate::commands::target_of_artifact(&artifact, args.spec.as_deref())?;
    let dataset = crate::commands::load_table(&args.data, target, crate::ingest::Reading::FeaturesOnly)?;
    let height = dataset.screening.rows_read;
    let mut probability: Vec<Option<f64>> = vec![None; height];
    let mut raw: Vec<Option<f64>> = vec![None; height];
    let mut factors: Vec<Option<String>> = vec![None; height];
    let mut errors: Vec<Option<String>> = vec![None; height];
    let model = artifact.compile();
    for (record, &row) in dataset.records.iter().zip(&dataset.rows) {
        // One pass down the model gives the raw output and its explanation.
        let explanation = model.explain(record);
        probability[row] = Some(model.calibrate(explanation.raw));
        raw[row] = Some(explanation.raw);
        factors[row] = Some(top_factors(&artifact, record, &explanation, args.top));
    }
    for (row, problems) in &dataset.rejected {
        errors[*row] = Some(problems.clone());
    }
    let mut columns: Vec<Column> = dataset.ids.clone();
    let model = artifact.model_version();
    columns.push(Column::new("model".into(), vec![model.as_str(); height]));
    columns.push(Column::new("probability".into(), probability));
    columns.push(Column::new("raw_score".into(), raw));
    let scale = carescore_core::scoring::scale_of(&artifact.estimator);
    columns.push(Column::new("scale".into(), vec![scale; height]));
    columns.push(Column::new("top_factors".into(), factors));
    columns.push(Column::new("errors".into(), errors));
    let mut frame = DataFrame::new(height, columns).context("building the output table")?;
    crate::commands::write_table(&args.out, &mut frame, "predictions")?;
    eprintln!(
        "{}: scored {} of {} rows ({} failed validation; see the errors column) into {}",
        model,
        dataset.records.len(),
        height,
        dataset.rejected.len(),
        Path::new(&args.out).display()
    );
    Ok(())
}
