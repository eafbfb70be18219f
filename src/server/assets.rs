//! The site's files: the browser bundle under `/pkg` (the WASM, its lazily loaded chunks, the
//! JS glue, the stylesheet) and the assets dir's files (the favicon), read from the site root
//! that cargo-leptos builds.
//!
//! Compression: the release build writes a brotli (quality 11) and a gzip copy next to each
//! file (`make release`: `cargo leptos build --release --split --precompress`, then the copies
//! that do not pay are deleted), and the files are served as they lie on disk, picking the
//! copy the browser accepts. Chosen over compressing on the way (tower-http's
//! `CompressionLayer`, brotli quality 4) by measuring the main WASM (855,491 bytes): brotli 11
//! sends 260,641 bytes where quality 4 sends 317,012 (and gzip 337,005), which alone decides
//! whether a first visit to /login stays under 350 KB; it takes 8 s to make, once per build,
//! where quality 4 would spend 60 ms of a core on every first visit; and files keep their
//! `Content-Length`, ranges and 304s. Pages and server functions, made per request, are
//! compressed on the way instead (server/mod.rs).
//!
//! Caching: with cargo-leptos' `hash-files` the names carry a digest of the file
//! (`clariva.<md5>.wasm`, `chunk_3.<md5>.wasm`, `__wasm_split.<md5>.js`). A name is a safe
//! forever-name only while the digest is that of the content, and cargo-leptos rewrites some
//! files after naming them: the main WASM and JS name the chunk loader, whose name is worked
//! out later (and the loader names the main JS, so not every name can be a digest). Were they
//! kept for a year, a browser would one day pair a cached main WASM with a new loader and
//! fail. So the digest is checked, once per file and process: a file whose name is its
//! content's digest is kept for a year as immutable; every other file (a stale digest, or
//! none: the favicon) is asked about again on each use (`no-cache`, 304 while unchanged).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use base64::Engine;
use http::{header, HeaderValue, StatusCode};
use leptos::config::LeptosOptions;
use md5::{Digest, Md5};
use tower::Service;
use tower_http::services::ServeDir;

/// For a file whose name is the digest of its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// For every other file: use it, but ask first whether it changed.
pub const REVALIDATE: &str = "no-cache";

/// Whether the build named its files by digest (cargo-leptos `hash-files`): it leaves the
/// digests in a file next to the server binary, where leptos reads them.
pub fn built_with_hashed_names(options: &LeptosOptions) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)))
        .is_some_and(|file| file.is_file())
}

/// The site root's files, with their cache policy; requests for anything else (and writes)
/// go to `not_found`.
pub fn files<F>(options: &LeptosOptions, not_found: F) -> Router
where
    F: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    F::Future: Send + 'static,
{
    let root = PathBuf::from(&*options.site_root);
    let files = ServeDir::new(&root)
        .precompressed_br()
        .precompressed_gzip()
        // A directory is not a page: no redirect to its `/`, no index.html.
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    let digests = Arc::new(Digests {
        root,
        sealed: Mutex::default(),
    });
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(digests, cache_policy))
}

/// Which files are named by their content's digest, worked out once each.
struct Digests {
    root: PathBuf,
    sealed: Mutex<HashMap<String, bool>>,
}

impl Digests {
    async fn sealed(&self, path: &str) -> bool {
        let Some(claimed) = claimed_digest(path).filter(|_| !path.contains("..")) else {
            return false;
        };
        if let Some(known) = self.sealed.lock().unwrap().get(path) {
            return *known;
        }
        let file = self.root.join(path.trim_start_matches('/'));
        let claimed = claimed.to_owned();
        let sealed = tokio::task::spawn_blocking(move || {
            std::fs::read(file).is_ok_and(|content| digest(&content) == claimed)
        })
        .await
        .unwrap_or(false);
        self.sealed.lock().unwrap().insert(path.to_owned(), sealed);
        sealed
    }
}

/// The digest a file name claims: a part between dots that looks like cargo-leptos' digest
/// (MD5 in unpadded URL-safe base64, 22 characters), as in `clariva.<digest>.wasm`.
fn claimed_digest(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    let parts: Vec<&str> = name.split('.').collect();
    let inner = parts.get(1..parts.len().saturating_sub(1))?;
    inner.iter().copied().find(|part| {
        part.len() == 22
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// cargo-leptos' digest of a file's content.
fn digest(content: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Md5::digest(content))
}

/// Sets the cache policy of a file served (200, 206, 304); leaves other answers (the not-found
/// page) alone. The answer depends on `Accept-Encoding`, and caches are told so.
async fn cache_policy(
    State(digests): State<Arc<Digests>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
        return response;
    }
    let policy = if digests.sealed(&path).await {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_read_from_the_names_cargo_leptos_gives() {
        let d = "AbCdEfGhIjKlMnOpQr-_12";
        assert_eq!(claimed_digest(&format!("/pkg/clariva.{d}.wasm")), Some(d));
        assert_eq!(
            claimed_digest(&format!("/pkg/__wasm_split.{d}.js")),
            Some(d)
        );
        assert_eq!(
            claimed_digest(&format!("/pkg/__wasm_split_manifest.{d}.json")),
            Some(d)
        );
        for plain in [
            "/pkg/clariva.wasm",
            "/favicon.svg",
            &format!("/pkg/{d}.js"),
            &format!("/pkg/clariva.{d}"),
            "/pkg/clariva.AbCdEfGhIjKlMnOpQr+/12.js",
            "/",
        ] {
            assert_eq!(claimed_digest(plain), None, "{plain}");
        }
    }

    #[test]
    fn the_digest_is_cargo_leptos_md5_in_url_safe_base64() {
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(digest(b""), "1B2M2Y8AsgTpgAmY7PhCfg");
    }
}
