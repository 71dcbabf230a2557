//! The service's routes, defined once with their methods: the routers
//! register these paths, the metrics count requests under them, a 405 lists
//! the methods in `Allow`, and tests hold the routers and the OpenAPI
//! document to this one table.

/// Declares the routes with their paths.
macro_rules! routes {
    ($( $(#[$doc:meta])* $route:ident => $allow:literal $path:literal, )+) => {
        /// A route of the service (its path), or `Other` for any other path.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route {
            $( $(#[$doc])* $route, )+
            /// Any path that is not a route (answered with 404).
            Other,
        }

        impl Route {
            /// Every route, in declaration order (`Other` last).
            pub const ALL: &'static [Route] = &[$(Route::$route,)+ Route::Other];

            /// The route's path, or `other`: its label in metrics and logs.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Route::$route => $path,)+
                    Route::Other => "other",
                }
            }

            /// The methods the route takes, as the `Allow` header lists them.
            pub const fn allow(self) -> &'static str {
                match self {
                    $(Route::$route => $allow,)+
                    Route::Other => "",
                }
            }

            /// The route of a request path (a model's path is its template's route).
            pub fn of(path: &str) -> Route {
                match path {
                    $($path => Route::$route,)+
                    _ => Route::of_model_path(path),
                }
            }
        }
    };
}

routes! {
    /// `GET /healthz`: liveness.
    Healthz => "GET, HEAD" "/healthz",
    /// `GET /readyz`: readiness.
    Readyz => "GET, HEAD" "/readyz",
    /// `GET /metrics`: Prometheus text.
    Metrics => "GET, HEAD" "/metrics",
    /// `GET /openapi.json`: this API's description.
    OpenApi => "GET, HEAD" "/openapi.json",
    /// `POST /v1/score`: one record.
    Score => "POST" "/v1/score",
    /// `POST /v1/score/batch`: up to 10,000 records.
    ScoreBatch => "POST" "/v1/score/batch",
    /// `POST /v1/underwriting/grade`: the underwriting grade.
    Grade => "POST" "/v1/underwriting/grade",
    /// `POST /v1/levers`: one record's modifiable inputs off target.
    Levers => "POST" "/v1/levers",
    /// `POST /v1/programme`: the programme view of up to 10,000 records.
    Programme => "POST" "/v1/programme",
    /// `GET /v1/models`: the active models.
    Models => "GET, HEAD" "/v1/models",
    /// `POST /v1/admin/reload`: re-read models, policy and keys.
    Reload => "POST" "/v1/admin/reload",
    /// Drift, group figures and the underwriting mix.
    Monitoring => "GET, HEAD" "/v1/monitoring",
    /// `GET /v1/models/{target}`: one model trained through a spec.
    SpecModel => "GET, HEAD" "/v1/models/{target}",
    /// `POST /v1/models/{target}/score`: one input of a spec model.
    SpecScore => "POST" "/v1/models/{target}/score",
    /// `POST /v1/models/{target}/score/batch`: up to 10,000 inputs of a spec model.
    SpecScoreBatch => "POST" "/v1/models/{target}/score/batch",
}

/// The placeholder of a spec model's target in its routes' templates.
const TARGET: &str = "{target}";

impl Route {
    /// The route's path (the routers register it).
    pub const fn path(self) -> &'static str {
        self.name()
    }

    /// The route's place in [`Route::ALL`] (a slot in the metrics).
    pub const fn slot(self) -> usize {
        self as usize
    }

    /// The concrete path of a spec model's route for `target` (the
    /// template's `{target}` filled in), as the OpenAPI document lists it.
    pub fn for_target(self, target: &str) -> String {
        self.name().replace(TARGET, target)
    }

    /// The spec-model route of a concrete path (`/v1/models/x/score`): the
    /// template whose `{target}` a non-empty segment fills; else `Other`.
    fn of_model_path(path: &str) -> Route {
        [Route::SpecModel, Route::SpecScore, Route::SpecScoreBatch]
            .into_iter()
            .find(|route| {
                let Some((before, after)) = route.name().split_once(TARGET) else {
                    return false;
                };
                path.strip_prefix(before)
                    .and_then(|rest| rest.strip_suffix(after))
                    .is_some_and(|target| !target.is_empty() && !target.contains('/'))
            })
            .unwrap_or(Route::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_slots_round_trip() {
        for (slot, route) in Route::ALL.iter().enumerate() {
            assert_eq!(route.slot(), slot);
            assert_eq!(Route::of(route.name()), *route);
        }
        assert_eq!(Route::of("/v1/nowhere"), Route::Other);
        assert_eq!(Route::of("/v1/models/graft_loss/score"), Route::SpecScore);
        assert_eq!(Route::of("/v1/models/graft_loss/score/batch"), Route::SpecScoreBatch);
        assert_eq!(Route::of("/v1/models/graft_loss"), Route::SpecModel);
        assert_eq!(Route::SpecScore.for_target("graft_loss"), "/v1/models/graft_loss/score");
        for path in [
            "/v1/models/",
            "/v1/models//score",
            "/v1/models/x/explain",
            "/v1/models/x/score/",
        ] {
            assert_eq!(Route::of(path), Route::Other, "{path}");
        }
        assert_eq!(Route::of("other"), Route::Other);
    }
}
