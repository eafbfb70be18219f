//! Browser-facing protections for every response: cross-site writes are refused, and pages
//! may not be framed, sniffed or leak their address.
//!
//! A write is any method but GET, HEAD and OPTIONS. Browsers say where a request comes from:
//! `Sec-Fetch-Site` (all current ones), else `Origin`. A write that says it comes from another
//! site gets 403 before any handler runs: so another site cannot sign a doctor's browser into
//! its own account (log-in CSRF) or save into theirs. Requests that say nothing are not from a
//! browser page, and a session cookie (SameSite=Lax) is not sent with another site's writes
//! anyway. Meta's callbacks come from Meta's servers and are proven by their own signatures.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use super::AppState;

/// Paths whose writes come from other sites by design and carry their own signatures.
const SIGNED_CALLBACKS: [&str; 3] = ["/meta/deauthorize", "/meta/data-deletion", "/meta/webhook"];

/// Path prefixes of the same kind: each doctor's payment provider webhook.
const SIGNED_CALLBACK_PREFIXES: [&str; 2] = ["/payments/stripe/", "/payments/razorpay/"];

fn is_signed_callback(path: &str) -> bool {
    SIGNED_CALLBACKS.contains(&path)
        || SIGNED_CALLBACK_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

/// The policy for every page: our own scripts (the hydration script is inline, the bundle is
/// WebAssembly), our own styles and images, and no framing by anyone.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    frame-ancestors 'none'";

pub async fn web_security(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if is_write
        && !is_signed_callback(request.uri().path())
        && comes_from_another_site(request.headers(), &state.config.public_base_url)
    {
        tracing::warn!(path = %request.uri().path(), "cross-site write refused");
        return (
            StatusCode::FORBIDDEN,
            "Refused: this request came from another site.",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if state.config.cookies_secure() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Whether the browser says this request was started by a page of another site. Our own
/// origin is the one the browser asked (`Host`) or the public address.
fn comes_from_another_site(headers: &HeaderMap, public_base_url: &str) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // `none`: the doctor typed the address or used a bookmark.
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return false;
    };
    let host = text(header::HOST.as_str()).unwrap_or_default();
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    !(origin.trim_end_matches('/') == public_base_url.trim_end_matches('/')
        || origin_host.is_some_and(|h| !host.is_empty() && h == host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    const PUBLIC: &str = "https://app.clariva.example";

    #[test]
    fn fetch_metadata_decides_when_present() {
        for (site, refused) in [
            ("cross-site", true),
            ("same-site", true),
            ("same-origin", false),
            ("none", false),
        ] {
            let h = headers(&[("sec-fetch-site", site), ("origin", PUBLIC)]);
            assert_eq!(comes_from_another_site(&h, PUBLIC), refused, "{site}");
        }
    }

    #[test]
    fn otherwise_the_origin_must_be_ours() {
        let ours = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(!comes_from_another_site(&ours, PUBLIC));
        assert!(!comes_from_another_site(
            &headers(&[("origin", PUBLIC)]),
            PUBLIC
        ));
        for origin in [
            "https://evil.example",
            "null",
            "http://127.0.0.1:3000.evil.example",
        ] {
            let h = headers(&[("origin", origin), ("host", "127.0.0.1:3000")]);
            assert!(comes_from_another_site(&h, PUBLIC), "{origin}");
        }
        assert!(
            !comes_from_another_site(&headers(&[]), PUBLIC),
            "not a browser page"
        );
    }
}
