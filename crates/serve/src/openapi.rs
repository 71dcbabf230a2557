//! `GET /openapi.json`: the OpenAPI 3.1 description of every route, with the
//! JSON Schemas generated from the Rust request and response types (utoipa).

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Declares the bearer API-key scheme the routes refer to.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API key from the settings file; scopes: score, underwrite, admin. Not required when the \
                         service runs without keys (loopback only).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The service's API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "CareScore", description = "Post-transplant complication and readmission risk, care tiers and underwriting grades."),
    paths(
        crate::scoring::score,
        crate::scoring::batch,
        crate::scoring::grade,
        crate::scoring::models,
        crate::admin::reload,
        crate::admin::metrics,
        crate::health::healthz,
        crate::health::readyz,
        openapi_json,
    ),
    modifiers(&BearerKeys)
)]
pub(crate) struct ApiDoc;

/// The document, with the patient record's ranges, units and meanings taken
/// from the field contract (`carescore_core::Field`), the same table
/// validation enforces.
pub(crate) fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let properties = &mut doc["components"]["schemas"]["PatientRecord"]["properties"];
    for field in carescore_core::Field::ALL {
        let spec = field.spec();
        let Some(property) = properties.get_mut(spec.name) else {
            continue;
        };
        let (min, max) = match spec.kind {
            carescore_core::FieldKind::Number { min, max } => (Some(min), Some(max)),
            carescore_core::FieldKind::Integer { min, max } => (Some(min as f64), Some(max as f64)),
            _ => (None, None),
        };
        if let (Some(min), Some(max)) = (min, max) {
            property["minimum"] = min.into();
            property["maximum"] = max.into();
        }
        let unit = if spec.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", spec.unit)
        };
        property["description"] = format!("{}{unit}", spec.description).into();
    }
    doc
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
async fn openapi_json() -> Json<serde_json::Value> {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone())
}

/// Routes of this resource.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/openapi.json", get(openapi_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_schema_is_described() {
        let doc = document();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        for path in [
            "/v1/score",
            "/v1/score/batch",
            "/v1/underwriting/grade",
            "/v1/models",
            "/v1/admin/reload",
            "/metrics",
            "/healthz",
            "/readyz",
            "/openapi.json",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        for status in ["200", "400", "401", "403", "413", "415", "422", "503"] {
            let response = &doc["paths"]["/v1/score"]["post"]["responses"][status];
            assert!(response.is_object(), "/v1/score {status}");
        }
        assert!(
            doc["paths"]["/v1/score"]["post"]["responses"]["422"]["content"]["application/problem+json"].is_object()
        );
        let schemas = &doc["components"]["schemas"];
        for name in [
            "PatientRecord",
            "ScoreResponse",
            "GradeResponse",
            "BatchResponse",
            "Problem",
            "Organ",
            "Flag",
        ] {
            assert!(schemas[name].is_object(), "schema {name} missing");
        }
        // The record schema lists every field the validation knows, with its range.
        let properties = schemas["PatientRecord"]["properties"].as_object().unwrap();
        for field in carescore_core::Field::ALL {
            assert!(properties.contains_key(field.name()), "{}", field.name());
            assert!(properties[field.name()]["description"].is_string(), "{}", field.name());
        }
        assert_eq!(properties["age_years"]["minimum"], 0.0);
        assert_eq!(properties["age_years"]["maximum"], 110.0);
        assert!(properties["phq9_score"]["maximum"].as_f64().unwrap() == 27.0);
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }
}
