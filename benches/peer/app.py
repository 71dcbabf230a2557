"""The peer: the ordinary Python alternative to carescore-serve, as its users
would run it in production (FastAPI + uvicorn with uvloop/httptools, pydantic
validation, orjson responses, LightGBM with pred_contrib top factors), serving
the same /v1/score and /v1/score/batch contract.

One pred_contrib call per model gives both the factors and the probability
(the sigmoid of the contributions' sum, which is the raw score): a second
predict call would only add cost. PEER_FACTORS=none skips pred_contrib and
answers with empty top_factors: not the contract, but the lower bound of the
peer's cost, to show how much of it LightGBM's exact TreeSHAP takes."""

import hashlib
import os
from typing import List

import lightgbm as lgb
import numpy as np
from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from pydantic import BaseModel, Field

from record import FEATURES, PatientRecord, feature_row

MODELS_DIR = os.environ.get("PEER_MODELS", os.path.join(os.path.dirname(__file__), "models"))
FACTORS = os.environ.get("PEER_FACTORS", "top5") != "none"
TARGETS = ("infection_180d", "readmission_30d")
BOOSTERS = {t: lgb.Booster(model_file=f"{MODELS_DIR}/{t}.txt") for t in TARGETS}
MODEL_SHA256 = {t: hashlib.sha256(open(f"{MODELS_DIR}/{t}.txt", "rb").read()).hexdigest() for t in TARGETS}
URGENT_REASON = {
    "mental_health_urgent": "PHQ-9 item 9 above 0 (thoughts of self-harm): the safety pathway, whatever the total",
    "trough_urgent": "tacrolimus trough below 3 or above 20 ng/mL: a same-day finding",
}
BANDS = {"infection_180d": (0.10, 0.20), "readmission_30d": (0.12, 0.25)}
TIERS = ["self_service", "remote", "intensive"]
CADENCE = {"acute": 7, "consolidation": 14, "maintenance": 30}
CHANNEL = {"intensive": "senior_case_manager", "remote": "nurse_phone", "self_service": "self_service_app"}

app = FastAPI(default_response_class=ORJSONResponse)


def band(p, target):
    medium, high = BANDS[target]
    return "high" if p > high else "medium" if p > medium else "low"


def phase(days):
    return "acute" if days <= 90 else "consolidation" if days <= 365 else "maintenance"


def score_rows(records: List[PatientRecord]):
    x = np.array([feature_row(r) for r in records], dtype=np.float64)
    risks = [{} for _ in records]
    for target, booster in BOOSTERS.items():
        if FACTORS:
            contrib = booster.predict(x, pred_contrib=True, num_threads=1)
            p = 1.0 / (1.0 + np.exp(-contrib.sum(axis=1)))
        else:
            p = booster.predict(x, num_threads=1)
            contrib = np.zeros((len(records), len(FEATURES) + 1))
        for i, record in enumerate(records):
            c = contrib[i]
            top = np.argsort(-np.abs(c[:-1]))[:5] if FACTORS else []
            risks[i][target] = {
                "probability": float(p[i]),
                "band": band(float(p[i]), target),
                "model_version": f"{target}@peer",
                "model_sha256": MODEL_SHA256[target],
                "base_value": float(c[-1]),
                "scale": "log_odds",
                "top_factors": [
                    {"feature": FEATURES[j], "value": getattr(record, FEATURES[j]), "contribution": float(c[j])}
                    for j in top
                ],
            }
    out = []
    for record, risk in zip(records, risks):
        worst = max(["low", "medium", "high"].index(r["band"]) for r in risk.values())
        t = record.tacrolimus_trough_ng_ml
        urgent = []
        if (record.phq9_item9 or 0) > 0:
            urgent.append("mental_health_urgent")
        if t is not None and (t < 3 or t > 20):
            urgent.append("trough_urgent")
        tier = TIERS[max(worst, 1) if urgent else worst]
        ph = phase(record.days_since_transplant)
        base = CADENCE[ph]
        cadence = min(base, 7) if tier == "intensive" else base * 2 if tier == "self_service" else base
        if urgent:
            why = "; ".join(URGENT_REASON[f] for f in urgent)
            follow_up = {"cadence_days": 1, "channel": "clinician_call", "urgent_flags": urgent,
                         "reason": f"urgent pathway: {why}; a clinician calls within 1 day(s), tier at least remote"}
        else:
            follow_up = {"cadence_days": cadence, "channel": CHANNEL[tier], "urgent_flags": [],
                         "reason": f"routine: {ph} phase, {tier} tier"}
        flags = []
        if risk["infection_180d"]["probability"] > 0.20:
            flags.append("early_intervention")
        if record.current_tier and TIERS.index(tier) > TIERS.index(record.current_tier):
            flags.append("tier_upgrade")
        if (record.phq9_score or 0) >= 10 or (record.gad7_score or 0) >= 10:
            flags.append("mental_health_review")
        if "mental_health_urgent" in urgent:
            flags.append("mental_health_urgent")
        if record.adherence_pct is not None and record.adherence_pct < 90:
            flags.append("adherence_support")
        if t is not None and (t < 3 or t > 20):
            flags.append("trough_review")
        flags.extend(f for f in urgent if f == "trough_urgent")
        out.append({
            "case_id": record.case_id, "phase": ph, "risks": risk, "recommended_tier": tier,
            "current_tier": record.current_tier,
            "follow_up": follow_up,
            "flags": flags, "warnings": [], "policy_version": "peer-1",
        })
    return out


class Batch(BaseModel):
    records: List[PatientRecord] = Field(min_length=1, max_length=10000)


@app.post("/v1/score")
async def score(record: PatientRecord):
    return score_rows([record])[0]


@app.post("/v1/score/batch")
async def batch(body: Batch):
    results = score_rows(body.records)
    return {"results": [{"index": i, "ok": r} for i, r in enumerate(results)], "scored": len(results), "failed": 0}
