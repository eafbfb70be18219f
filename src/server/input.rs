//! Requests that carry a NUL character in their path, query or form fields get 400 before any
//! handler sees them: nobody types one, no text we keep may hold one (PostgreSQL refuses it
//! in text), and refusing it here spares every field and id its own check.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

use super::MAX_BODY_BYTES;

pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|q| holds_nul(q.as_bytes())) {
        return refused();
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
    };
    if holds_nul(&bytes) {
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether form-encoded `bytes` hold a NUL, raw or percent-encoded, in a name or a value.
fn holds_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || form_urlencoded::parse(bytes)
            .any(|(name, value)| name.contains('\0') || value.contains('\0'))
}

fn refused() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "The request holds a NUL character, which no field accepts.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn nul_is_found_raw_or_encoded() {
        assert!(holds_nul(b"id=%00"));
        assert!(holds_nul(b"a=1&b%00=2"));
        assert!(holds_nul(b"a=\0"));
        assert!(!holds_nul(b"a=1&b=%30%25"));
    }
}
