//! `GET /openapi.json`: the OpenAPI 3.1 document of the HTTP API. It is not written by hand:
//! `routes::configure` registers every route through `utoipa_actix_web`, whose `service()`
//! takes only handlers annotated with `#[utoipa::path]` and adds each one's path, parameters,
//! bodies and responses to the document as it registers the route. A route cannot be served
//! without being documented (it does not compile), and the document lists nothing that is not
//! served. Security follows `auth::require_token`: every operation under `/api/` gets the
//! bearer requirement and its 401 answer here, from the same prefix the middleware checks.

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

use super::auth::PROTECTED_PREFIX;
use super::error::ErrorBody;

/// Name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// The document's fixed parts; `routes::configure` adds every path to it.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "domaind",
        description = "Keeps a database of domains enriched with metadata about their homepages. \
            Errors are JSON `{\"error\": kind, \"message\": text}` with a 4xx or 503 status. \
            When `http.token` or `[[http.tokens]]` is configured, everything under `/api/` needs \
            `Authorization: Bearer <token>`; `/health/*`, `/metrics` (unless `http.metrics_require_token`), `/openapi.json`, `/docs` and the dashboard page stay open."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "health", description = "Probes for load balancers and process managers"),
        (name = "domains", description = "The domains table: add, list, read, export, retry, delete"),
        (name = "jobs", description = "Scheduled jobs: list, run history, manual runs, pause and resume"),
        (name = "service", description = "The service's own state, metrics and the Python pattern's dev endpoint"),
        (name = "docs", description = "This document and the page that shows it"),
        (name = "dashboard", description = "The live dashboard page and its assets")
    )
)]
pub struct ApiDoc;

/// Completes the collected document: the bearer scheme, and on every operation under
/// `/api/` the requirement and its 401 answer (the rule `auth::require_token` enforces).
pub fn finish(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "Needed under /api/ when the service is configured with `http.token` or \
                     `[[http.tokens]]`; a tenant-bound token sees only its tenant's rows.",
                ))
                .build(),
        ),
    );
    let unauthorized = ResponseBuilder::new()
        .description("missing or wrong `Authorization: Bearer <token>` (when tokens are configured)")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with(PROTECTED_PREFIX) {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            operation
                .responses
                .responses
                .entry("401".to_string())
                .or_insert_with(|| unauthorized.clone().into());
        }
    }
    api
}

/// This document.
#[utoipa::path(
    tag = "docs",
    responses((
        status = 200,
        description = "the OpenAPI 3.1 document of every route this service serves",
        content_type = "application/json",
        body = Object
    ))
)]
#[get("/openapi.json")]
pub async fn document(api: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(api.get_ref())
}
