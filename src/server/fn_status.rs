//! A server function's error answers with the status of its [`AppError`]: 422 for field
//! errors, 400 for a request that could not be read (a missing or malformed argument, which
//! leptos reports before the function runs), 401, 409 and so on. leptos answers every error
//! with 500; this layer reads the error it carries and sets the status from it, in one place
//! for every server function. A plain HTML form post (no WASM yet) is redirected back to its
//! form by leptos_axum and left alone.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use crate::error::AppError;

/// Larger error bodies are left as they are (ours are a few hundred bytes; messages quote
/// what was typed only in part).
const MAX_ERROR_BYTES: usize = 256 * 1024;

pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let error = AppError::de(bytes.clone());
    parts.status = error.status();
    if let Some(seconds) = error.retry_after() {
        parts
            .headers
            .insert(http::header::RETRY_AFTER, seconds.into());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    /// A server function that failed with `error`, as leptos answers it: 500 and the header.
    async fn failed_with(error: AppError) -> Response {
        let router = Router::new()
            .route(
                "/api/fn",
                post(move || async move {
                    Response::builder()
                        .status(StatusCode::INTERNAL_SERVER_ERROR)
                        .header(SERVER_FN_ERROR_HEADER, "/api/fn")
                        .body(Body::from(error.ser()))
                        .unwrap()
                }),
            )
            .layer(axum::middleware::from_fn(server_fn_status));
        let request = Request::post("/api/fn").body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn busy_answers_503_with_retry_after() {
        let response = failed_with(AppError::Busy).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry = response.headers().get(http::header::RETRY_AFTER).unwrap();
        assert_eq!(retry.to_str().unwrap(), "2");
    }

    #[tokio::test]
    async fn other_errors_get_their_own_status_and_no_retry_after() {
        let response = failed_with(AppError::NotFound).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(!response.headers().contains_key(http::header::RETRY_AFTER));
    }
}
