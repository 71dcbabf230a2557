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

            /// The route of a request path.
            pub fn of(path: &str) -> Route {
                match path {
                    $($path => Route::$route,)+
                    _ => Route::Other,
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
    /// `GET /v1/models`: the active models.
    Models => "GET, HEAD" "/v1/models",
    /// `POST /v1/admin/reload`: re-read models, policy and keys.
    Reload => "POST" "/v1/admin/reload",
}

impl Route {
    /// The route's path (the routers register it).
    pub const fn path(self) -> &'static str {
        self.name()
    }

    /// The route's place in [`Route::ALL`] (a slot in the metrics).
    pub const fn slot(self) -> usize {
        self as usize
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
        assert_eq!(Route::of("other"), Route::Other);
    }
}
