//! Session cookies and the guard in front of every request.
//!
//! The cookie carries 32 random bytes; the database keeps only their SHA-256, so a copy of the
//! database does not let anyone log in. A log-in always starts a new session (the old one is
//! deleted), so a session id planted before log-in is worthless after it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::context::{AppState, SignedIn};
use crate::crypto::sha256_hex;
use crate::db::{self, DoctorId};
use crate::error::AppError;

/// The session cookie's name; over https the `__Host-` prefix makes the browser refuse it
/// unless it is Secure, for the whole host and from the host itself (no subdomain can plant
/// one).
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-clariva_session"
    } else {
        "clariva_session"
    }
}
const SESSION_DAYS: i64 = 30;

/// A new session's cookie value; shown once, in the `Set-Cookie` header.
pub struct NewSession {
    pub token: String,
}

pub async fn start(state: &AppState, doctor: &DoctorId) -> Result<NewSession, AppError> {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let expires_at = db::now_millis() + SESSION_DAYS * 24 * 60 * 60 * 1000;
    db::sessions::insert(&state.db, &sha256_hex(&token), doctor, expires_at).await?;
    Ok(NewSession { token })
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Secure when served over https.
pub fn set_cookie(session: &NewSession, secure: bool) -> HeaderValue {
    cookie_header(&session.token, SESSION_DAYS * 24 * 60 * 60, secure)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie_header("", 0, secure)
}

fn cookie_header(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("a cookie of base64url characters is a valid header value")
}

fn session_token(headers: &HeaderMap, secure: bool) -> Option<&str> {
    let cookie_name = cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie_name)
        .map(|(_, token)| token)
        .filter(|token| !token.is_empty())
}

/// Server functions anyone may call; every other one answers 401 without a session.
const PUBLIC_SERVER_FNS: [&str; 4] = [
    "/api/create_account",
    "/api/log_in",
    "/api/forgot_password",
    "/api/reset_password",
];

/// Resolves the session cookie, then keeps the signed-out away from the dashboard (redirect
/// to log-in, and back afterwards) and from server functions (401), and the signed-in away
/// from the log-in and sign-up pages.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/favicon.svg" {
        return next.run(request).await;
    }
    if let Some(token) = session_token(request.headers(), state.config.cookies_secure()) {
        let token_hash = sha256_hex(token);
        match db::sessions::doctor(&state.db, &token_hash, db::now_millis()).await {
            Ok(Some(doctor)) => {
                request
                    .extensions_mut()
                    .insert(SignedIn { doctor, token_hash });
            }
            Ok(None) => {}
            Err(error) => return AppError::from(error).into_response(),
        }
    }
    let signed_in = request.extensions().get::<SignedIn>().is_some();
    let path = request.uri().path();
    if !signed_in && (path == "/dashboard" || path.starts_with("/dashboard/")) {
        let asked_for = request.uri().path_and_query().map_or(path, |p| p.as_str());
        let next: String = form_urlencoded::byte_serialize(asked_for.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    if !signed_in && path.starts_with("/api/") && !PUBLIC_SERVER_FNS.contains(&path) {
        return AppError::Unauthorized.into_response();
    }
    if signed_in && (path == "/login" || path == "/signup") {
        return Redirect::to("/dashboard").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; clariva_session=abc; other=1"),
        );
        assert_eq!(session_token(&headers, false), Some("abc"));
        assert_eq!(
            session_token(&headers, true),
            None,
            "over https only __Host- counts"
        );
        headers.insert(header::COOKIE, HeaderValue::from_static("clariva_session="));
        assert_eq!(session_token(&headers, false), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_only_over_https() {
        let session = NewSession { token: "t".into() };
        let plain = set_cookie(&session, false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        let secure = set_cookie(&session, true);
        let secure = secure.to_str().unwrap();
        assert!(
            secure.starts_with("__Host-clariva_session=t; Path=/;") && secure.ends_with("; Secure")
        );
        assert!(!secure.contains("Domain"));
    }
}
