#!/usr/bin/env bash
# `make release`, after `cargo leptos build --release --precompress`: deletes the brotli and
# gzip copies that do not pay, those not at least a tenth smaller than their file (tiny files,
# already compressed ones). The server then sends such a file as it is (server/assets.rs
# serves a copy only where there is one, and never compresses a file on the way).
set -euo pipefail
root=${1:-target/site}
find "$root" -type f \( -name '*.br' -o -name '*.gz' \) -print0 |
    while IFS= read -r -d '' copy; do
        file=${copy%.*}
        [[ -f $file ]] || continue
        if (($(stat -c %s "$copy") * 10 > $(stat -c %s "$file") * 9)); then
            rm -- "$copy"
        fi
    done
