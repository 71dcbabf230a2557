//! `carescore-train programme`: a cohort table scored with the service's
//! code into the programme view (the figures `POST /v1/programme` gives),
//! with observed events when the table has outcome columns; written as an
//! HTML page (and JSON with `--json`).

use std::path::Path;

use anyhow::Context;
use carescore_core::scoring::{Models, BUILT_IN_TARGETS};
use carescore_core::{ModelArtifact, PatientRecord, Policy};

use crate::args::{OutputFormat, ProgrammeArgs};
use crate::ingest::{Dataset, Reading};
use crate::programme::{self, ProgrammeReport};
use crate::target::Target;

/// The artifact at `path`, or the embedded default's bytes.
fn artifact(path: Option<&Path>, embedded: &[u8]) -> anyhow::Result<ModelArtifact> {
    match path {
        Some(path) => crate::commands::load_artifact(path),
        None => ModelArtifact::from_json(embedded).context("the embedded default model"),
    }
}

fn policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the policy", path.display()))?;
    Policy::from_toml(&text).with_context(|| format!("{}", path.display()))
}

/// The patient records of a dataset with their rows in the table.
fn records(dataset: &Dataset) -> Vec<(usize, &PatientRecord)> {
    dataset
        .rows
        .iter()
        .zip(&dataset.records)
        .filter_map(|(row, r)| r.patient().map(|p| (*row, p)))
        .collect()
}

/// Runs `programme`.
///
/// # Errors
/// An unreadable table, artifact or policy, or a write failure.
pub fn run(args: &ProgrammeArgs) -> anyhow::Result<()> {
    let policy = policy(args.policy.as_deref())?;
    let models = Models::new(
        artifact(args.infection_model.as_deref(), carescore_core::embedded::INFECTION)?,
        artifact(args.readmission_model.as_deref(), carescore_core::embedded::READMISSION)?,
    )
    .context("the models")?;
    crate::commands::check_output_dir(&args.out)?;
    if let Some(json) = &args.json {
        crate::commands::check_output_dir(json)?;
    }
    // Each target's outcome columns are read when present: the table is
    // screened once per target (the same rows are kept both times).
    let infection = crate::commands::load_table(&args.data, Target::Infection180d, Reading::OutcomeIfPresent)?;
    let readmission = crate::ingest::load(&args.data, Target::Readmission30d, Reading::OutcomeIfPresent)?;
    if readmission.rows != infection.rows {
        anyhow::bail!("{}: the table changed while it was read", args.data.display());
    }
    let records = records(&infection);
    if records.is_empty() {
        anyhow::bail!(
            "{}: no valid patient record among {} rows ({} refused by validation)",
            args.data.display(),
            infection.screening.rows_read,
            infection.screening.rows_excluded
        );
    }
    let distinct: std::collections::HashSet<i64> = infection.groups.iter().copied().collect();
    let rows_sharing_a_patient = infection.groups.len() - distinct.len();
    if rows_sharing_a_patient > 0 {
        eprintln!(
            "note: {rows_sharing_a_patient} of {} rows share their patient with an earlier row; each row counts \
             as a patient (keep each patient's latest row for a programme view of patients)",
            infection.groups.len()
        );
    }
    let stage = crate::progress::Stage::start(format!("scoring {} patients", records.len()));
    let (tally, urgent) = programme::tally(&models, &policy, &records);
    let view = tally.view(&policy);
    stage.finish();
    let mut observed = std::collections::BTreeMap::new();
    let outcomes = [infection.outcome.as_ref(), readmission.outcome.as_ref()];
    for (target, outcome) in BUILT_IN_TARGETS.iter().zip(outcomes) {
        let Some(outcome) = outcome else { continue };
        let figures = programme::observed(
            outcome,
            target.horizon_days,
            args.censoring.into(),
            &view.targets[target.name],
            view.patients,
        )
        .with_context(|| format!("{}: the outcome of {}", args.data.display(), target.name))?;
        match figures {
            Some(figures) => {
                observed.insert(target.name, figures);
            }
            None => eprintln!(
                "note: {}: no row is labelled at the {}-day horizon of {}; observed events not estimable",
                args.data.display(),
                target.horizon_days,
                target.name
            ),
        }
    }
    let report = ProgrammeReport {
        data: crate::commands::file_name(&args.data),
        rows_read: infection.screening.rows_read,
        rows_refused: infection.screening.rows_excluded,
        rows_sharing_a_patient,
        model_versions: models.versions(),
        view,
        urgent,
        observed,
    };
    let html = programme::page::render(&report)?;
    crate::commands::write_html(&args.out, &html)?;
    let json = serde_json::to_string_pretty(&report).context("the programme view as JSON")?;
    if let Some(path) = &args.json {
        crate::atomic::write_atomically(path, |w| std::io::Write::write_all(w, json.as_bytes()))
            .with_context(|| format!("{}: cannot write the view", path.display()))?;
    }
    match args.format {
        OutputFormat::Json => crate::commands::say(json)?,
        OutputFormat::Text => summary(&report, &args.out)?,
    }
    Ok(())
}

fn summary(report: &ProgrammeReport, page: &Path) -> anyhow::Result<()> {
    let view = &report.view;
    let say = crate::commands::say;
    say(format!(
        "{} patients of {} rows ({} refused); policy {}",
        view.patients, report.rows_read, report.rows_refused, view.policy_version
    ))?;
    for t in &view.tiers {
        say(format!(
            "  {:<12} {:>7} patients  {:>6.1} case managers",
            t.tier.as_str(),
            t.patients,
            t.case_managers
        ))?;
    }
    for (name, t) in &view.targets {
        let observed = report.observed.get(name).map_or_else(String::new, |o| {
            format!(
                "; observed {:.1} ({}){}",
                o.estimated_events,
                o.censoring.as_str(),
                if o.within_interval {
                    ""
                } else {
                    ", outside the interval"
                }
            )
        });
        say(format!(
            "  {name}: expected {:.1} events (95% interval {}-{}), {:.1} avoided at the assumed reductions{observed}",
            t.expected_events, t.interval_95.low, t.interval_95.high, t.events_avoided
        ))?;
    }
    say(format!(
        "  {} tier upgrades needed; {:.1} case managers in all ({} whole)",
        view.tier_changes.upgrades, view.workload.case_managers, view.workload.case_managers_whole
    ))?;
    if !report.urgent.is_empty() {
        const SHOWN: usize = 20;
        let rows: Vec<String> = report.urgent.iter().take(SHOWN).map(|u| u.row.to_string()).collect();
        let more = report.urgent.len().saturating_sub(SHOWN);
        say(format!(
            "  URGENT: {} valid rows raise an urgent flag (rows {}{}): pass them to the clinical team",
            report.urgent.len(),
            rows.join(", "),
            if more > 0 {
                format!(" and {more} more, listed on the page")
            } else {
                String::new()
            }
        ))?;
    }
    say(format!("  {}", view.assumption))?;
    say(format!("page: {}", page.display()))?;
    Ok(())
}
