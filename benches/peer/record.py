"""The patient record as pydantic validates it (ranges as docs/data-contract.md),
and its model features, shared by training and serving."""

import math
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

ORGANS = ["kidney", "liver", "heart", "lung"]
SEXES = ["female", "male"]
CMV = ["D+/R-", "D+/R+", "D-/R+", "D-/R-"]
INDUCTIONS = ["none", "basiliximab", "atg"]
CATEGORIES = {"organ": ORGANS, "sex": SEXES, "cmv_serostatus": CMV, "induction": INDUCTIONS}

# Model features in a fixed order; categories are integer codes.
FEATURES = [
    "organ", "age_years", "sex", "days_since_transplant", "bmi", "diabetes", "cmv_serostatus",
    "induction", "acute_rejection_episodes_12m", "egfr_ml_min", "tacrolimus_trough_ng_ml",
    "lymphocyte_count_10e9_l", "igg_g_l", "albumin_g_dl", "prior_infections_12m",
    "hospitalizations_12m", "ed_visits_6m", "index_length_of_stay_days", "emergency_admission",
    "charlson_index", "icu_days", "adherence_pct", "phq9_score", "phq9_item9", "gad7_score",
    "lives_alone", "distance_to_center_km",
]
CATEGORICAL = [i for i, f in enumerate(FEATURES) if f in CATEGORIES]

# Outcome columns of the synthetic cohort per target: time, event, horizon (days).
TARGETS = {
    "infection_180d": ("infection_time_days", "infection_event", 180),
    "readmission_30d": ("readmission_time_days", "readmission_event", 30),
}


def cell(value, name):
    """A cohort CSV cell as a model input: categories as integer codes, yes/no
    as 1/0, missing (empty) or unreadable as NaN."""
    if value == "":
        return math.nan
    if name in CATEGORIES:
        return float(CATEGORIES[name].index(value)) if value in CATEGORIES[name] else math.nan
    if value in ("true", "false"):
        return 1.0 if value == "true" else 0.0
    try:
        return float(value)
    except ValueError:
        return math.nan


class PatientRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    case_id: str = Field(min_length=1, max_length=64)
    organ: Literal["kidney", "liver", "heart", "lung"]
    age_years: float = Field(ge=0, le=110)
    sex: Literal["female", "male"]
    days_since_transplant: int = Field(ge=0, le=36500)
    bmi: float = Field(ge=12, le=70)
    diabetes: bool
    cmv_serostatus: Literal["D+/R-", "D+/R+", "D-/R+", "D-/R-"]
    induction: Literal["none", "basiliximab", "atg"]
    acute_rejection_episodes_12m: int = Field(ge=0, le=20)
    egfr_ml_min: float = Field(ge=0, le=200)
    tacrolimus_trough_ng_ml: Optional[float] = Field(default=None, ge=0, le=60)
    lymphocyte_count_10e9_l: Optional[float] = Field(default=None, ge=0, le=50)
    igg_g_l: Optional[float] = Field(default=None, ge=0, le=40)
    albumin_g_dl: Optional[float] = Field(default=None, ge=0.5, le=6.5)
    prior_infections_12m: int = Field(ge=0, le=50)
    hospitalizations_12m: int = Field(ge=0, le=50)
    ed_visits_6m: int = Field(ge=0, le=50)
    index_length_of_stay_days: int = Field(ge=0, le=365)
    emergency_admission: bool
    charlson_index: int = Field(ge=0, le=37)
    icu_days: int = Field(ge=0, le=365)
    adherence_pct: Optional[float] = Field(default=None, ge=0, le=100)
    phq9_score: Optional[int] = Field(default=None, ge=0, le=27)
    phq9_item9: Optional[int] = Field(default=None, ge=0, le=3)
    gad7_score: Optional[int] = Field(default=None, ge=0, le=21)
    lives_alone: bool
    distance_to_center_km: Optional[float] = Field(default=None, ge=0, le=5000)
    current_tier: Optional[Literal["self_service", "remote", "intensive"]] = None
    enrolled_in_program: bool = False
    years_without_complications: Optional[int] = Field(default=None, ge=0, le=100)


def encode(value, name):
    """One feature value as LightGBM reads it (NaN for missing)."""
    if value is None:
        return float("nan")
    if name in CATEGORIES:
        return float(CATEGORIES[name].index(value))
    return float(value)


def feature_row(record: PatientRecord):
    return [encode(getattr(record, f), f) for f in FEATURES]
