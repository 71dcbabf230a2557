//! The oracle of the synthetic world: the true probabilities of a row with
//! some inputs changed and every other true value held, from the same
//! hazard model the outcomes were drawn from. It is how levers are checked
//! against the truth, which no real cohort offers.

use carescore_core::scoring::{INFECTION, READMISSION};
use carescore_core::Field;

use super::clinical::Clinical;
use super::{hazard, INFECTION_HORIZON_DAYS, READMISSION_HORIZON_DAYS};

/// A row's true clinical state.
#[derive(Debug, Clone, PartialEq)]
pub struct TrueState(Clinical);

impl TrueState {
    pub(super) fn new(clinical: Clinical) -> TrueState {
        TrueState(clinical)
    }

    /// The true probabilities (infection within 180 days, readmission
    /// within 30) with each `(field, value)` of `changes` set in the true
    /// state; `None` when a field is not one the oracle can change (the
    /// modifiable inputs: adherence, tacrolimus trough, PHQ-9, GAD-7,
    /// albumin, IgG).
    pub fn probabilities_with(&self, changes: &[(Field, f64)]) -> Option<[f64; 2]> {
        let mut c = self.0.clone();
        for (field, value) in changes {
            let slot = match field {
                Field::AdherencePct => &mut c.adherence,
                Field::TacrolimusTroughNgMl => &mut c.tacrolimus,
                Field::Phq9Score => &mut c.phq9,
                Field::Gad7Score => &mut c.gad7,
                Field::AlbuminGDl => &mut c.albumin,
                Field::IggGL => &mut c.igg,
                _ => return None,
            };
            *slot = *value;
        }
        Some(probabilities_of(&c))
    }

    /// The true probabilities as they are.
    pub fn probabilities(&self) -> [f64; 2] {
        probabilities_of(&self.0)
    }
}

/// The true probabilities of a clinical state.
fn probabilities_of(c: &Clinical) -> [f64; 2] {
    [
        hazard::infection(c).probability_by(INFECTION_HORIZON_DAYS),
        hazard::readmission(c).probability_by(READMISSION_HORIZON_DAYS),
    ]
}

/// Whether the generator's hazard of `target` reads `field` directly (the
/// effects listed in `notebooks-data/DATA_DICTIONARY.md`). Among the
/// modifiable inputs: infection reads the tacrolimus trough (above 12
/// ng/mL), albumin (below 3.5 g/dL) and IgG (below 7 g/L); readmission
/// reads adherence (below 90%), PHQ-9 (10 or more) and albumin. GAD-7
/// enters neither; adherence, PHQ-9 and GAD-7 do not enter infection; the
/// trough and IgG do not enter readmission.
pub fn direct_effect(field: Field, target: &str) -> bool {
    match target {
        INFECTION => matches!(field, Field::TacrolimusTroughNgMl | Field::AlbuminGDl | Field::IggGL),
        READMISSION => matches!(field, Field::AdherencePct | Field::Phq9Score | Field::AlbuminGDl),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{generate, SynthConfig};

    #[test]
    fn the_oracle_reproduces_the_rows_probabilities_and_follows_the_hazards() {
        let rows = generate(
            &SynthConfig {
                rows: 2000,
                seed: 3,
                dropout_rate: 0.1,
            },
            |_| {},
        )
        .unwrap();
        for row in &rows {
            let [infection, readmission] = row.truth.probabilities();
            assert!((infection - row.true_p_infection_180d).abs() <= 5e-7);
            assert!((readmission - row.true_p_readmission_30d).abs() <= 5e-7);
            // GAD-7 enters no hazard; adherence no infection hazard.
            assert_eq!(
                row.truth.probabilities_with(&[(Field::Gad7Score, 0.0)]),
                Some(row.truth.probabilities())
            );
            let adherent = row.truth.probabilities_with(&[(Field::AdherencePct, 40.0)]).unwrap();
            assert_eq!(adherent[0], infection);
            assert!(adherent[1] >= readmission);
        }
        assert_eq!(rows[0].truth.probabilities_with(&[(Field::AgeYears, 30.0)]), None);
        assert!(direct_effect(Field::AdherencePct, READMISSION) && !direct_effect(Field::AdherencePct, INFECTION));
    }
}
