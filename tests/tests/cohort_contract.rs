//! The synthetic cohort on disk honours the data contract: every record field
//! is a column, CSV and Parquet hold the same table, and each clean row read
//! back from the file is a valid patient record for the core's parser.

use carescore_core::{parse_record_value, Field};
use carescore_train::synth::{generate, SynthConfig};
use carescore_train::table::{read_table, write_cohort};
use serde_json::{Map, Value};

#[test]
fn csv_and_parquet_round_trip_to_valid_records() {
    let dir = tempfile::tempdir().unwrap();
    let rows = generate(
        &SynthConfig {
            rows: 1_500,
            seed: 11,
            dropout_rate: 0.1,
        },
        |_| {},
    )
    .unwrap();
    let csv = dir.path().join("cohort.csv");
    let parquet = dir.path().join("cohort.parquet");
    write_cohort(&rows, &csv).unwrap();
    write_cohort(&rows, &parquet).unwrap();
    let from_csv = read_table(&csv).unwrap();
    let from_parquet = read_table(&parquet).unwrap();
    assert_eq!(from_csv.height(), rows.len());
    assert_eq!(from_parquet.height(), rows.len());
    for field in Field::ALL {
        assert!(from_csv.column(field.name()).is_ok(), "CSV lacks {}", field.name());
        assert!(
            from_parquet.column(field.name()).is_ok(),
            "Parquet lacks {}",
            field.name()
        );
    }

    // Each row of the CSV, turned into the JSON a CMS would send, parses to the
    // same record the generator made (clean rows) or is flagged (noisy rows).
    for (i, row) in rows.iter().enumerate() {
        let mut object = Map::new();
        for field in Field::ALL {
            let value = from_csv.column(field.name()).unwrap().get(i).unwrap();
            let json = match value {
                polars::prelude::AnyValue::Null => Value::Null,
                polars::prelude::AnyValue::Boolean(b) => Value::Bool(b),
                polars::prelude::AnyValue::String(s) => Value::String(s.to_string()),
                polars::prelude::AnyValue::Int64(n) => Value::from(n),
                polars::prelude::AnyValue::Float64(x) => Value::from(x),
                other => panic!("unexpected value type {other:?} in {}", field.name()),
            };
            object.insert(field.name().to_string(), json);
        }
        let parsed = parse_record_value(&Value::Object(object));
        if row.injected_noise {
            let flagged = match &parsed {
                Ok(screened) => !screened.warnings.is_empty(),
                Err(_) => true,
            };
            assert!(flagged, "noisy row {} passed unflagged", row.record.case_id);
        } else {
            let screened = parsed.unwrap_or_else(|e| panic!("{}: {e:?}", row.record.case_id));
            assert_eq!(screened.record, row.record);
            assert!(screened.warnings.is_empty());
        }
    }
}

#[test]
fn data_dictionary_documents_every_column() {
    let dictionary = include_str!("../../notebooks-data/DATA_DICTIONARY.md");
    let rows = generate(
        &SynthConfig {
            rows: 10,
            seed: 1,
            dropout_rate: 0.1,
        },
        |_| {},
    )
    .unwrap();
    let frame = carescore_train::table::cohort_frame(&rows).unwrap();
    for name in frame.get_column_names() {
        assert!(
            dictionary.contains(&format!("| {name} |")),
            "DATA_DICTIONARY.md lacks {name}"
        );
    }
}

#[test]
fn committed_sample_is_reproducible_with_the_documented_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sample.csv");
    let rows = generate(
        &SynthConfig {
            rows: 5_000,
            seed: 42,
            dropout_rate: SynthConfig::DEFAULT_DROPOUT_RATE,
        },
        |_| {},
    )
    .unwrap();
    write_cohort(&rows, &out).unwrap();
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../notebooks-data/cohort-sample.csv"
    ))
    .unwrap();
    assert!(
        committed == std::fs::read(&out).unwrap(),
        "notebooks-data/cohort-sample.csv differs from `synth --rows 5000 --seed 42`"
    );
    let readme = include_str!("../../notebooks-data/README.md");
    assert!(readme.contains("synth --rows 5000 --seed 42 --out notebooks-data/cohort-sample.csv"));
}
