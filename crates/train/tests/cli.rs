//! The `carescore-train` binary as users run it: good runs, and bad input that
//! must fail with one clear line, no panic and no file left behind.

use std::path::Path;
use std::process::{Command, Output};

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carescore-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Asserts a failed run with a one-line `error:` message containing `needle`.
fn assert_fails_with(output: &Output, needle: &str) {
    assert!(!output.status.success());
    assert_eq!(output.status.code(), Some(1), "an error exit, not a panic (101)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{stderr}");
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "parquet"] {
        let path = |name: &str| dir.path().join(format!("{name}.{ext}"));
        for (name, seed) in [("a", "3"), ("b", "3"), ("c", "4")] {
            let out = path(name);
            let output = train(&[
                "synth",
                "--rows",
                "3000",
                "--seed",
                seed,
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ]);
            assert!(output.status.success(), "{output:?}");
        }
        let read = |name: &str| std::fs::read(path(name)).unwrap();
        assert_eq!(read("a"), read("b"), "{ext}: same seed, same bytes");
        assert_ne!(read("a"), read("c"), "{ext}: another seed, other bytes");
    }
}

#[test]
fn summary_is_printed_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cohort.csv");
    let output = train(&["synth", "--rows", "500", "--out", out.to_str().unwrap()]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("wrote 500 rows") && stderr.contains("oracle AUC"),
        "{stderr}"
    );
    let header = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.starts_with("patient_id,index_date,case_id,organ,"), "{header}");
    assert!(
        header.ends_with("true_p_infection_180d,true_p_readmission_30d,injected_noise"),
        "{header}"
    );
}

#[test]
fn zero_rows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    assert_fails_with(
        &train(&["synth", "--rows", "0", "--out", out.to_str().unwrap()]),
        "--rows must be at least 1",
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn unknown_extension_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.xlsx");
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "unknown file extension (allowed: .csv, .parquet)",
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/x.csv");
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "directory does not exist",
    );
}

#[test]
fn unwritable_path_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should go: the rename into place fails.
    let out = dir.path().join("taken.csv");
    std::fs::create_dir(&out).unwrap();
    assert_fails_with(
        &train(&["synth", "--rows", "10", "--out", out.to_str().unwrap()]),
        "cannot write",
    );
    assert_eq!(files_in(dir.path()), ["taken.csv"], "no temporary file left");
    assert!(out.is_dir());
}

#[test]
fn dropout_rate_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    assert_fails_with(
        &train(&[
            "synth",
            "--rows",
            "10",
            "--dropout-rate",
            "0.95",
            "--out",
            out.to_str().unwrap(),
        ]),
        "--dropout-rate must be between 0 and 0.9",
    );
}

/// Runs `fit` on `data` for `target` into `out`, with `extra` options and,
/// unless `extra` asks for them, without the refits of the pipeline for the
/// intervals (they multiply a debug build's time, and only the tests of the
/// intervals need them).
fn fit(data: &Path, target: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "fit",
        "--data",
        data.to_str().unwrap(),
        "--target",
        target,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--interval-refits") {
        args.extend_from_slice(&["--interval-refits", "0"]);
    }
    train(&args)
}

/// Writes a synthetic cohort of `rows` rows into `dir` and returns its path.
fn cohort(dir: &Path, rows: &str, seed: &str) -> std::path::PathBuf {
    let out = dir.join(format!("cohort-{seed}.csv"));
    let output = train(&[
        "synth",
        "--rows",
        rows,
        "--seed",
        seed,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(output.status.success(), "{output:?}");
    out
}

#[test]
fn fit_writes_a_deterministic_artifact_and_card_and_evaluate_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = cohort(dir.path(), "3000", "5");
    let models = dir.path().join("models");
    for _ in 0..2 {
        let output = fit(&data, "readmission_30d", &models, &["--folds", "3"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    // Versions count up; the same data and seed give the same model.
    let first = std::fs::read_to_string(models.join("readmission_30d-1.json")).unwrap();
    let second = std::fs::read_to_string(models.join("readmission_30d-2.json")).unwrap();
    assert_eq!(
        first
            .replace("\"version\": 1", "\"version\": 2")
            .lines()
            .filter(|l| !l.contains("sha256"))
            .collect::<Vec<_>>(),
        second.lines().filter(|l| !l.contains("sha256")).collect::<Vec<_>>()
    );
    let fit_report = std::fs::read_to_string(models.join("readmission_30d-1.report.html")).unwrap();
    assert_report(&fit_report, "readmission_30d@1");
    // The report of `fit` says how the model was calibrated, as the card does.
    assert!(
        fit_report.contains("Calibration map: "),
        "no calibration map in the report"
    );
    let card = std::fs::read_to_string(models.join("readmission_30d-1.model-card.md")).unwrap();
    assert!(card.contains("## Intended use") && card.contains("| AUC |"), "{card}");
    // The headline is the pipeline nested in cross-validation, with its
    // patients, events and intervals, and the sample size beside it.
    assert!(
        card.contains("## Performance on patients the model did not see")
            && card.contains("3-fold nested cross-validation by patient")
            && card.contains("### Sample size")
            && card.contains("Riley et al."),
        "{card}"
    );
    // The participants: every predictor by outcome, with its missing values.
    assert!(
        card.contains("### Participants")
            && card.contains("| predictor | all (n = ")
            && card.contains("| bmi, median (IQR) |")
            && card.contains("| albumin_g_dl, missing |"),
        "{card}"
    );
    let artifact: serde_json::Value = serde_json::from_str(&first).unwrap();
    let metrics = &artifact["metrics"];
    assert_eq!(metrics["nested_cv_folds"], 3.0, "{metrics}");
    for key in [
        "auc_ci95_lower",
        "auc_ci95_upper",
        "validation_patients",
        "validation_events",
        "training_patients",
    ] {
        assert!(metrics[key].as_f64().is_some(), "{key}: {metrics}");
    }
    let (lo, auc, hi) = (
        metrics["auc_ci95_lower"].as_f64().unwrap(),
        metrics["auc"].as_f64().unwrap(),
        metrics["auc_ci95_upper"].as_f64().unwrap(),
    );
    assert!(lo < auc && auc < hi, "{metrics}");
    // By default the latest 20% of rows by index date are a temporal hold-out.
    assert!(
        card.contains("### Temporal hold-out") && card.contains("or later ("),
        "{card}"
    );
    assert!(first.contains("\"temporal_auc\""), "{first}");

    let evaluation = train(&[
        "evaluate",
        "--model",
        models.join("readmission_30d-1.json").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(evaluation.status.success());
    let json: serde_json::Value = serde_json::from_slice(&evaluation.stdout).unwrap();
    assert_eq!(json["model"], "readmission_30d@1");
    let auc = json["auc"].as_f64().unwrap();
    assert!((0.6..0.9).contains(&auc), "{auc}");
}

/// A report names its model, holds the four plots as inline SVG with their
/// axes labelled (five with a temporal hold-out, which has its own
/// calibration plot), and loads nothing from elsewhere.
fn assert_report(html: &str, model: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100]);
    assert!(html.contains(&format!("<title>CareScore model report: {model}</title>")));
    let plots = if html.contains("<h2>Temporal hold-out</h2>") {
        5
    } else {
        4
    };
    assert_eq!(
        html.matches("<svg").count(),
        plots,
        "ROC, calibration, decision curve, importance (and the temporal calibration)"
    );
    for text in [
        "ROC curve (AUC 0.",
        "95% interval",
        "net benefit",
        "Feature importance",
        "days_since_transplant",
        "Operating points",
        "organ=kidney",
        // Participants' characteristics by outcome, with missing values per predictor.
        "Participants and missing values",
        "age_years, median (IQR)",
        "organ = kidney",
        "tacrolimus_trough_ng_ml, missing",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    assert!(!html.contains("src=") && !html.contains("href="), "nothing is loaded");
    assert!(!html.contains("NaN"), "no missing numbers in the plots");
}

#[test]
fn fit_refuses_an_unknown_target_a_missing_file_and_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    assert_fails_with(
        &fit(Path::new("nope.csv"), "infection_90d", &out, &[]),
        "unknown target \"infection_90d\" (allowed: infection_180d, readmission_30d; other data sets train with --spec FILE)",
    );
    assert_fails_with(
        &fit(&dir.path().join("nope.csv"), "infection_180d", &out, &[]),
        "nope.csv: no such file",
    );
    let folder = dir.path().join("cohort.csv");
    std::fs::create_dir(&folder).unwrap();
    assert_fails_with(
        &fit(&folder, "infection_180d", &out, &[]),
        "cohort.csv: is a directory, not a table file (.csv or .parquet)",
    );
}

/// Rewrites a CSV with `edit` applied to each line.
/// `edit` gets each line's number (0 is the header) and cells, and returns
/// whether to keep the line.
fn edited(dir: &Path, source: &Path, name: &str, edit: impl Fn(usize, &mut Vec<String>) -> bool) -> std::path::PathBuf {
    let text = std::fs::read_to_string(source).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            edit(i, &mut cells).then(|| cells.join(","))
        })
        .collect();
    let out = dir.join(name);
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    out
}

fn column_index(source: &Path, name: &str) -> usize {
    let text = std::fs::read_to_string(source).unwrap();
    text.lines().next().unwrap().split(',').position(|c| c == name).unwrap()
}

fn fit_fails(data: &Path, target: &str, needle: &str) {
    let out = data.parent().unwrap().join("models");
    assert_fails_with(&fit(data, target, &out, &["--folds", "2"]), needle);
    assert!(
        std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0) == 0,
        "no artifact written"
    );
}

#[test]
fn fit_names_the_problem_in_bad_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = cohort(dir.path(), "400", "6");
    // More folds than patients, for either family.
    for model in ["logistic", "forest", "gbdt"] {
        let out = dir.path().join("few");
        assert_fails_with(
            &fit(&data, "infection_180d", &out, &["--folds", "1000", "--model", model]),
            "cannot fill 1000 cross-validation folds",
        );
    }
    // A missing column.
    let bmi = column_index(&data, "bmi");
    let without_bmi = edited(dir.path(), &data, "no-bmi.csv", |_, cells| {
        cells.remove(bmi);
        true
    });
    fit_fails(
        &without_bmi,
        "infection_180d",
        "missing column `bmi` (a required record field)",
    );
    // Text in a numeric column.
    let text_bmi = edited(dir.path(), &data, "text-bmi.csv", |i, cells| {
        if i == 3 {
            cells[bmi] = "heavy".into();
        }
        true
    });
    fit_fails(&text_bmi, "infection_180d", "column `bmi`: expected numbers, found str");
    // An empty table (header only).
    let empty = edited(dir.path(), &data, "empty.csv", |i, _| i == 0);
    fit_fails(&empty, "infection_180d", "the table has no rows");
    // No events at all.
    let event = column_index(&data, "readmission_event");
    let no_events = edited(dir.path(), &data, "no-events.csv", |i, cells| {
        if i > 0 {
            cells[event] = "false".into();
        }
        true
    });
    fit_fails(
        &no_events,
        "readmission_30d",
        "0 events among 272 labelled rows are too few to fit and validate a model (at least 10)",
    );
    // Follow-up shorter than the horizon everywhere.
    let time = column_index(&data, "infection_time_days");
    let short = edited(dir.path(), &data, "short.csv", |i, cells| {
        if i > 0 {
            cells[time] = "10".into();
            cells[time + 1] = "false".into();
        }
        true
    });
    fit_fails(&short, "infection_180d", "no row is followed up to the 180-day horizon");
    // Mis-mapped columns: most ages out of range.
    let age = column_index(&data, "age_years");
    let ages_in_months = edited(dir.path(), &data, "months.csv", |i, cells| {
        if i > 0 {
            let years: f64 = cells[age].parse().unwrap();
            cells[age] = format!("{}", years * 12.0);
        }
        true
    });
    fit_fails(
        &ages_in_months,
        "infection_180d",
        "break hard ranges, more than the 5% allowed; most often in: age_years",
    );
}

#[test]
fn tree_families_and_auto_selection_fit_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let data = cohort(dir.path(), "4000", "12");
    let models = dir.path().join("models");
    for (version, model, kind) in [(1, "gbdt", "boosted_trees"), (2, "forest", "random_forest")] {
        let output = fit(
            &data,
            "infection_180d",
            &models,
            &["--model", model, "--folds", "3", "--format", "json"],
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(summary["family"], model);
        assert_eq!(summary["model_version"], format!("infection_180d@{version}"));
        assert!(summary["metrics"]["auc"].as_f64().unwrap() > 0.6, "{summary}");
        assert!(!summary["tuning"].as_array().unwrap().is_empty(), "{summary}");
        let path = models.join(format!("infection_180d-{version}.json"));
        assert_eq!(summary["artifact"], path.to_str().unwrap());
        let artifact: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(artifact["estimator"]["type"], kind);
        assert!(!artifact["estimator"]["trees"].as_array().unwrap().is_empty());
        let evaluation = train(&[
            "evaluate",
            "--model",
            path.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ]);
        assert!(
            evaluation.status.success(),
            "{}",
            String::from_utf8_lossy(&evaluation.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&evaluation.stdout).unwrap();
        assert!(json["auc"].as_f64().unwrap() > 0.6, "{json}");
    }
    // `report` evaluates an artifact on a table and writes a self-contained page.
    let page = dir.path().join("forest.html");
    let forest = models.join("infection_180d-2.json");
    let report = train(&[
        "report",
        "--model",
        forest.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
    ]);
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    assert_report(&std::fs::read_to_string(&page).unwrap(), "infection_180d@2");
    assert_fails_with(
        &train(&[
            "report",
            "--model",
            forest.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--out",
            dir.path().join("r.pdf").to_str().unwrap(),
        ]),
        "r.pdf: the report must be an `.html` file",
    );
    // `auto` on these 473 patients: short of Riley's minimum for the logistic
    // model, so the tree ensembles are held back.
    let auto = fit(&data, "infection_180d", &models, &["--folds", "3"]);
    assert!(auto.status.success());
    let said = String::from_utf8_lossy(&auto.stderr);
    assert!(
        said.contains("forest and gbdt not offered: 2786 labelled rows are fewer than the 4422"),
        "{said}"
    );
    assert!(said.contains("fitted a logistic model"), "{said}");
    assert!(models.join("infection_180d-3.json").is_file());
    // On a cohort that meets it, every family is compared.
    let larger = cohort(dir.path(), "8000", "13");
    let auto = fit(&larger, "infection_180d", &models, &["--folds", "3"]);
    assert!(auto.status.success());
    let said = String::from_utf8_lossy(&auto.stderr);
    assert!(!said.contains("not offered"), "{said}");
    assert!(said.contains("one standard error of the best): logistic"), "{said}");
    assert!(said.contains(", forest "), "{said}");
    assert!(models.join("infection_180d-4.json").is_file());
    assert_fails_with(
        &fit(&data, "infection_180d", &models, &["--model", "svm"]),
        "unknown model \"svm\" (allowed: auto, logistic, forest, gbdt)",
    );
}

#[test]
fn predict_scores_every_row_and_keeps_rejected_ones_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = cohort(dir.path(), "3000", "21");
    let models = dir.path().join("models");
    let fitted = fit(
        &data,
        "readmission_30d",
        &models,
        &["--model", "logistic", "--folds", "2"],
    );
    assert!(fitted.status.success(), "{}", String::from_utf8_lossy(&fitted.stderr));
    let out = dir.path().join("scores.csv");
    let predict = train(&[
        "predict",
        "--model",
        models.join("readmission_30d-1.json").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--top",
        "3",
    ]);
    assert!(predict.status.success(), "{}", String::from_utf8_lossy(&predict.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "patient_id,index_date,case_id,model,probability,raw_score,scale,top_factors,errors"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3000, "one output row per input row");
    let (mut scored, mut rejected) = (0, 0);
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        if cells[4].is_empty() {
            rejected += 1;
            assert!(cells[8].contains(": "), "{row}");
        } else {
            scored += 1;
            let p: f64 = cells[4].parse().unwrap();
            assert!(p > 0.0 && p < 1.0, "{row}");
            assert_eq!(cells[6], "log_odds", "{row}");
            assert_eq!(cells[7].matches("; ").count(), 2, "three factors: {row}");
        }
    }
    assert!(scored > 2900 && rejected > 0, "{scored} scored, {rejected} rejected");
}

#[test]
fn cv_prints_one_json_line_per_candidate_and_writes_the_out_of_fold_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let source = cohort(dir.path(), "3000", "31");
    // File row 6 (line 7) breaks a hard range: screened out, so record and file row differ after it.
    let age = column_index(&source, "age_years");
    let data = edited(dir.path(), &source, "one-bad-row.csv", |i, cells| {
        if i == 7 {
            cells[age] = "999".to_string();
        }
        true
    });
    let output = train(&[
        "cv",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "readmission_30d",
        "--folds",
        "3",
        "--repeats",
        "2",
        "--predictions",
        dir.path().join("oof.csv").to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each family, then the whole auto pipeline nested in the same folds.
    assert_eq!(lines.len(), 4);
    for (line, candidate) in lines.iter().zip(["logistic", "forest", "gbdt", "auto"]) {
        assert_eq!(line["candidate"], candidate);
        assert_eq!(line["evaluations"], 6);
        let auc = line["auc"].as_f64().unwrap();
        assert!((0.55..0.9).contains(&auc), "{line}");
        for key in ["auc_sd", "brier", "calibration_slope", "calibration_intercept", "ece"] {
            assert!(line[key].as_f64().unwrap().is_finite(), "{key}: {line}");
        }
    }
    let predictions = std::fs::read_to_string(dir.path().join("oof.csv")).unwrap();
    let mut rows = predictions.lines();
    assert_eq!(
        rows.next(),
        Some("repeat,fold,row,patient,label,weight,logistic,forest,gbdt,auto")
    );
    // Per candidate, repeat and fold: weighted squared error and weight, to
    // recompute the printed mean Brier score from the file.
    let mut sums = std::collections::BTreeMap::<(usize, u32, u32), (f64, f64)>::new();
    let mut fold_of = std::collections::HashMap::<(u32, i64), u32>::new();
    let mut per_repeat = [0usize; 2];
    let mut seen = std::collections::HashSet::<(u32, usize)>::new();
    for line in rows {
        let cells: Vec<&str> = line.split(',').collect();
        let (repeat, fold): (u32, u32) = (cells[0].parse().unwrap(), cells[1].parse().unwrap());
        // Each file row at most once per repeat, never the screened-out one.
        let row: usize = cells[2].parse().unwrap();
        assert!(row < 3000 && row != 6, "{line}");
        assert!(seen.insert((repeat, row)), "row {row} twice in repeat {repeat}");
        let patient: i64 = cells[3].parse().unwrap();
        assert!(fold < 3, "{line}");
        per_repeat[repeat as usize] += 1;
        // A patient sits in one fold per repeat.
        assert_eq!(*fold_of.entry((repeat, patient)).or_insert(fold), fold, "{line}");
        let label: f64 = cells[4].parse().unwrap();
        let weight: f64 = cells[5].parse().unwrap();
        for candidate in 0..4 {
            let p: f64 = cells[6 + candidate].parse().unwrap();
            assert!((0.0..=1.0).contains(&p), "{line}");
            let entry = sums.entry((candidate, repeat, fold)).or_default();
            entry.0 += weight * (p - label).powi(2);
            entry.1 += weight;
        }
    }
    // Every labelled row once per repeat (most of the 3,000 rows have a 30-day label).
    assert_eq!(per_repeat[0], per_repeat[1]);
    assert!(per_repeat[0] > 2500, "{per_repeat:?}");
    for (candidate, line) in lines.iter().enumerate() {
        let folds: Vec<f64> = sums
            .iter()
            .filter(|((c, _, _), _)| *c == candidate)
            .map(|(_, (loss, weight))| loss / weight)
            .collect();
        assert_eq!(folds.len(), 6);
        let brier = folds.iter().sum::<f64>() / 6.0;
        let printed = line["brier"].as_f64().unwrap();
        assert!(
            (brier - printed).abs() < 1e-9,
            "{}: {brier} from the file, {printed} printed",
            line["candidate"]
        );
    }
}

#[test]
fn a_corrupt_table_is_named_as_unreadable_not_unwritable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("broken.parquet");
    std::fs::write(&data, b"not a parquet file").unwrap();
    let models = dir.path().join("models");
    let output = fit(&data, "infection_180d", &models, &[]);
    assert_fails_with(
        &output,
        "broken.parquet: cannot decode the table (is it a valid Parquet file?)",
    );
}

#[test]
fn evaluate_prints_json_or_text_and_a_closed_output_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = cohort(dir.path(), "400", "9");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/readmission_30d-1.json");
    let evaluate = |format: &str| {
        train(&[
            "evaluate",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    let json = evaluate("json");
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["model"], "readmission_30d@1");
    let text = evaluate("text");
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with("model readmission_30d@1 on ") && text.contains("auc "),
        "{text}"
    );

    // The reader goes away before the answer is written (`... | head -0`).
    let mut child = Command::new(env!("CARGO_BIN_EXE_carescore-train"))
        .args([
            "evaluate",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "quietly: {stderr}");
    assert!(
        output.status.success(),
        "a closed output ends quietly: {:?} {stderr}",
        output.status
    );
}

#[test]
fn a_small_table_trains_with_the_riley_warning_and_a_tiny_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // About 140 labelled rows at 180 days, a few dozen events: trains, with
    // the sample-size warning and an honest, wide interval.
    let small = cohort(dir.path(), "200", "3");
    let out = dir.path().join("small-models");
    let output = fit(
        &small,
        "infection_180d",
        &out,
        &["--folds", "3", "--format", "json", "--interval-refits", "20"],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: ") && stderr.contains("Riley et al. (BMJ 2020) criteria ask for"),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let size = &summary["sample_size"];
    assert!(
        size["required_rows"].as_u64().unwrap() > size["rows"].as_u64().unwrap(),
        "{size}"
    );
    let metrics = &summary["metrics"];
    let width = metrics["auc_ci95_upper"].as_f64().unwrap() - metrics["auc_ci95_lower"].as_f64().unwrap();
    assert!(width > 0.1, "a small table gives a wide interval: {metrics}");
    assert_eq!(summary["validation"]["method"], "nested_cross_validation", "{summary}");
    let card = std::fs::read_to_string(out.join("infection_180d-1.model-card.md")).unwrap();
    assert!(card.contains("**Warning:**"), "{card}");
    // The interval is widened by refits of the whole pipeline, and says so.
    assert_eq!(metrics["interval_refits"], 20.0, "{metrics}");
    assert!(card.contains("over 20 refits of the whole pipeline"), "{card}");
    let report = std::fs::read_to_string(out.join("infection_180d-1.report.html")).unwrap();
    assert!(report.contains("over 20 refits of the whole pipeline"));
    // Short of Riley's minimum even for the logistic model: the tree
    // ensembles are held back, said on the command line, in the summary and the card.
    assert_eq!(summary["family"], "logistic", "{summary}");
    assert_eq!(
        summary["held_back"]["families"],
        serde_json::json!(["forest", "gbdt"]),
        "{summary}"
    );
    assert!(stderr.contains("forest and gbdt not offered"), "{stderr}");
    assert!(card.contains("forest and gbdt not offered"), "{card}");

    // 15 rows: refused with the reason, nothing written.
    let tiny = cohort(dir.path(), "15", "3");
    let out = dir.path().join("tiny-models");
    assert_fails_with(
        &fit(&tiny, "infection_180d", &out, &["--folds", "2"]),
        "are too few to fit and validate a model",
    );
    assert!(!out.join("infection_180d-1.json").exists());
}

#[test]
fn recalibrate_restores_the_overall_risk_on_a_shifted_cohort() {
    let dir = tempfile::tempdir().unwrap();
    let development = cohort(dir.path(), "4000", "1");
    let models = dir.path().join("models");
    let output = fit(
        &development,
        "infection_180d",
        &models,
        &["--model", "logistic", "--folds", "3"],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Another centre: other patients, and three in five of the rows without an
    // infection missing, so infections are far more common than the model expects.
    let other = cohort(dir.path(), "4000", "2");
    let event = column_index(&other, "infection_event");
    let shifted = edited(dir.path(), &other, "shifted.csv", |i, cells| {
        i == 0 || cells[event] == "true" || i % 5 < 2
    });
    let original = models.join("infection_180d-1.json");
    let output = train(&[
        "recalibrate",
        "--model",
        original.to_str().unwrap(),
        "--data",
        shifted.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["model_version"], "infection_180d@2", "{summary}");
    assert_ne!(summary["update"]["update"], "kept", "{summary}");
    let gap = &summary["observed_minus_predicted"];
    assert!(gap["before"].as_f64().unwrap() > 0.05, "{summary}");
    assert!(gap["after"].as_f64().unwrap().abs() < 0.02, "{summary}");
    // The new version is an artifact like any other: it loads and evaluates.
    let updated = models.join("infection_180d-2.json");
    let evaluation = train(&[
        "evaluate",
        "--model",
        updated.to_str().unwrap(),
        "--data",
        shifted.to_str().unwrap(),
    ]);
    assert!(
        evaluation.status.success(),
        "{}",
        String::from_utf8_lossy(&evaluation.stderr)
    );
    let card = std::fs::read_to_string(models.join("infection_180d-2.model-card.md")).unwrap();
    assert!(
        card.contains("An update of `infection_180d@1`") && card.contains("Closed testing procedure"),
        "{card}"
    );
    // Writing over an existing version is refused.
    let again = train(&[
        "recalibrate",
        "--model",
        original.to_str().unwrap(),
        "--data",
        shifted.to_str().unwrap(),
        "--version",
        "2",
    ]);
    assert_fails_with(&again, "already exists");
}

#[test]
fn monitor_names_what_is_wrong_with_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let outcomes = dir.path().join("outcomes.csv");
    std::fs::write(
        &audit,
        "{\"time_unix_ms\":1796000000000,\"request_id\":\"r1\",\"route\":\"score\",\"case_id_sha256\":\"ab\",\
         \"model_versions\":{\"infection_180d\":\"infection_180d@1\"},\"probabilities\":{\"infection_180d\":0.2}}\n",
    )
    .unwrap();
    std::fs::write(&outcomes, "case_id,target,event,date\nc1,infection_180d,0,2027-12-01\n").unwrap();
    let run = |salt: Option<&str>, audit: &Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_carescore-train"));
        command
            .args(["monitor", "--audit"])
            .arg(audit)
            .arg("--outcomes")
            .arg(&outcomes);
        command
            .args(["--salt-env", "CARESCORE_TEST_MONITOR_SALT", "--out"])
            .arg(dir.path().join("m"));
        command.env_remove("CARESCORE_TEST_MONITOR_SALT");
        if let Some(salt) = salt {
            command.env("CARESCORE_TEST_MONITOR_SALT", salt);
        }
        command.output().unwrap()
    };
    assert_fails_with(
        &run(None, &audit),
        "CARESCORE_TEST_MONITOR_SALT: the environment variable is not set",
    );
    assert_fails_with(&run(Some("short"), &audit), "the salt has 5 characters");
    // The hash "ab" is no case of the outcomes: nothing can be labelled, and the message says why.
    assert_fails_with(
        &run(Some("a-salt-of-sixteen-chars"), &audit),
        "1 predictions, 1 without outcome rows for their case (is the salt the service's?)",
    );
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"route\": \"score\"}\n").unwrap();
    assert_fails_with(
        &run(Some("a-salt-of-sixteen-chars"), &broken),
        "broken.jsonl, line 1: not an audit line",
    );
}
