//! The site's files as a browser gets them (README, "Page weight"): a file of the bundle comes
//! as the precompressed copy the browser accepts, else as it is, never compressed again on the
//! way; a file named by its content's digest is kept for a year, any other is asked about
//! again (and answered 304 while unchanged). Pages are compressed as they are sent, tiny
//! answers are not. The files are made here, under a site root of the test's own, as the
//! release build makes them (`make release`), so no build is needed.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;

use base64::Engine;
use common::{Backend, TestApp};
use md5::{Digest, Md5};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, IF_MODIFIED_SINCE,
    LAST_MODIFIED, VARY, X_CONTENT_TYPE_OPTIONS,
};
use reqwest::StatusCode;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site root of the test's own, deleted afterwards.
struct Site(PathBuf);

impl Site {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!("clariva-site-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        Self(root)
    }

    fn write(&self, path: &str, content: &[u8]) {
        std::fs::write(self.0.join(path), content).unwrap();
    }

    /// A file and its brotli copy (quality 11, as the release build writes it).
    fn write_with_brotli(&self, path: &str, content: &[u8]) -> Vec<u8> {
        let mut packed = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut packed, 4096, 11, 22);
            writer.write_all(content).unwrap();
        }
        self.write(path, content);
        self.write(&format!("{path}.br"), &packed);
        packed
    }

    async fn serve(&self) -> TestApp {
        let root = self.0.display().to_string();
        TestApp::spawn_with(Backend::Sqlite, &[("LEPTOS_SITE_ROOT", &root)]).await
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// cargo-leptos' digest of a file: MD5 in unpadded URL-safe base64.
fn digest(content: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Md5::digest(content))
}

/// Something that compresses as a WASM chunk does: 40 KB of repetitive code.
fn chunk() -> Vec<u8> {
    (0..1500)
        .map(|i| format!("(func $chunk_{i} (param i32) (result i32) local.get 0)\n"))
        .collect::<String>()
        .into_bytes()
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .map_or("", |value| value.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_named_by_its_digest_comes_compressed_and_is_kept_for_a_year() {
    let site = Site::new();
    let content = chunk();
    let path = format!("pkg/chunk_3.{}.wasm", digest(&content));
    let packed = site.write_with_brotli(&path, &content);
    let app = site.serve().await;
    let url = app.url(&format!("/{path}"));

    let response = app
        .client
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_ENCODING), "br");
    assert_eq!(header(&response, CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&response, CACHE_CONTROL), IMMUTABLE);
    assert!(header(&response, VARY).contains("accept-encoding"));
    // The server's own headers are still there.
    assert_eq!(header(&response, X_CONTENT_TYPE_OPTIONS), "nosniff");
    let body = response.bytes().await.unwrap();
    assert_eq!(body, packed);
    assert!(
        body.len() * 4 < content.len(),
        "{} bytes sent for {}",
        body.len(),
        content.len()
    );
    assert_eq!(unbrotli(&body), content);

    for accepts in [None, Some("gzip"), Some("identity")] {
        let mut request = app.client.get(&url);
        if let Some(accepts) = accepts {
            request = request.header(ACCEPT_ENCODING, accepts);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accepts:?}");
        assert_eq!(header(&response, CONTENT_ENCODING), "", "{accepts:?}");
        assert_eq!(header(&response, CACHE_CONTROL), IMMUTABLE, "{accepts:?}");
        assert_eq!(response.bytes().await.unwrap(), content, "{accepts:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_files_are_asked_about_again_and_unchanged_ones_answered_304() {
    let site = Site::new();
    let content = chunk();
    // No digest in the name; a digest that is not the content's (cargo-leptos rewrites the
    // main JS after naming it); the assets dir's favicon at the root.
    let stale = format!(
        "pkg/clariva.{}.js",
        digest(b"what it held when it was named")
    );
    let paths = ["pkg/clariva.js", stale.as_str(), "favicon.svg"];
    for path in paths {
        site.write_with_brotli(path, &content);
    }
    let app = site.serve().await;
    for path in paths {
        let url = app.url(&format!("/{path}"));
        let response = app
            .client
            .get(&url)
            .header(ACCEPT_ENCODING, "br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&response, CONTENT_ENCODING), "br", "{path}");
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{path}");
        let modified = header(&response, LAST_MODIFIED).to_owned();

        let again = app
            .client
            .get(&url)
            .header(ACCEPT_ENCODING, "br")
            .header(IF_MODIFIED_SINCE, modified)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&again, CACHE_CONTROL), "no-cache", "{path}");
        assert!(again.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_without_a_compressed_copy_is_sent_as_it_is() {
    // The release build deletes the copies that do not pay (tiny or incompressible files).
    let site = Site::new();
    let content = chunk();
    let path = format!("pkg/tiny.{}.js", digest(&content));
    site.write(&path, &content);
    let app = site.serve().await;
    let response = app
        .client
        .get(app.url(&format!("/{path}")))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_ENCODING), "");
    assert_eq!(header(&response, CACHE_CONTROL), IMMUTABLE);
    assert_eq!(response.bytes().await.unwrap(), content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_gets_the_not_found_page_and_no_cache_policy() {
    let site = Site::new();
    let app = site.serve().await;
    for path in ["/pkg/gone.AbCdEfGhIjKlMnOpQr-_12.wasm", "/pkg", "/pkg/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header(&response, CACHE_CONTROL), "", "{path}");
        assert!(
            response.text().await.unwrap().contains("Page not found"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_compressed_on_the_way_and_tiny_answers_are_not() {
    let site = Site::new();
    let app = site.serve().await;
    let plain = app.get("/signup").await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1024, "{} bytes", plain.len());

    let packed = app
        .client
        .get(app.url("/signup"))
        .header(ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(packed.status(), StatusCode::OK);
    assert_eq!(header(&packed, CONTENT_ENCODING), "br");
    let packed = packed.bytes().await.unwrap();
    assert!(
        packed.len() * 2 < plain.len(),
        "{} of {}",
        packed.len(),
        plain.len()
    );
    let page = String::from_utf8(unbrotli(&packed)).unwrap();
    assert!(page.contains("Create account"), "{page}");

    let tiny = app
        .client
        .get(app.url("/healthz"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(tiny.status(), StatusCode::OK);
    assert_eq!(header(&tiny, CONTENT_ENCODING), "");
    assert_eq!(tiny.text().await.unwrap(), "ok");
}
