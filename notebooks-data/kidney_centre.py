#!/usr/bin/env python3
"""Writes kidney_centre.csv: a synthetic kidney transplant centre's own table.

The example of a table with a centre's own columns (not the patient record
of the built-in models), trained through the spec kidney_centre.toml and
served at POST /v1/models/rejection_365d/score. One row per transplant at
discharge; the outcome is biopsy-proven acute rejection or graft loss within
a year, with follow-up censored early for some patients (moved away, lost to
follow-up). No row describes a real person.

    python3 notebooks-data/kidney_centre.py   # rewrites notebooks-data/kidney_centre.csv

Standard library only; the same seed writes the same bytes.
"""

import math
import random
from pathlib import Path

PATIENTS = 900
SEED = 20261202


def row(rng, patient):
    """One transplant: its features and outcome."""
    donor = rng.choices(["living", "deceased_dbd", "deceased_dcd"], weights=[30, 50, 20])[0]
    age = round(min(79.0, max(18.0, rng.gauss(51, 13))), 1)
    cold = {"living": rng.uniform(1, 4), "deceased_dbd": rng.gauss(14, 4), "deceased_dcd": rng.gauss(12, 3)}[donor]
    cold = round(min(36.0, max(0.5, cold)), 1)
    hla = rng.choices(range(7), weights=[4, 8, 14, 22, 24, 18, 10])[0]
    dgf_logit = -3.0 + 0.12 * cold + (0.8 if donor == "deceased_dcd" else 0.0)
    dgf = rng.random() < 1 / (1 + math.exp(-dgf_logit))
    creatinine = rng.lognormvariate(math.log(450 if dgf else 140), 0.35)
    creatinine = round(min(1400.0, max(35.0, creatinine)))
    # Frailty (Fried, 0-5) was not assessed for about a fifth of patients.
    frailty = "" if rng.random() < 0.2 else str(min(5, max(0, round(rng.gauss(1.6, 1.2)))))
    # Younger recipients, more mismatches, delayed function, poor early
    # function and frailty raise the risk of rejection or graft loss.
    logit = (
        -2.6
        - 0.025 * (age - 50)
        + 0.25 * (hla - 3)
        + 0.7 * dgf
        + 0.004 * (creatinine - 150)
        + (0.25 * (int(frailty) - 1.6) if frailty else 0.0)
        + (0.3 if donor != "living" else 0.0)
    )
    p = 1 / (1 + math.exp(-logit))
    event = rng.random() < p
    censored_early = rng.random() < 0.12
    if event:
        days = 1 + int(rng.random() ** 2 * 364)
    elif censored_early:
        days = 1 + int(rng.random() * 364)
    else:
        days = 365 + int(rng.random() * 400)
    day = rng.randrange(0, 3 * 365)
    date = f"{2021 + day // 365}-{1 + (day % 365) // 31:02d}-{1 + (day % 365) % 28:02d}"
    return [patient, date, age, donor, cold, hla, str(dgf).lower(), creatinine, frailty, days, int(event)]


def main():
    rng = random.Random(SEED)
    header = [
        "patient_id", "transplant_date", "recipient_age", "donor_type", "cold_ischaemia_hours",
        "hla_mismatches", "delayed_graft_function", "creatinine_day7_umol_l", "frailty_score",
        "days_to_event_or_censoring", "rejection_or_graft_loss",
    ]
    lines = [",".join(header)]
    for patient in range(1, PATIENTS + 1):
        lines.append(",".join(str(v) for v in row(rng, patient)))
    out = Path(__file__).with_name("kidney_centre.csv")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
