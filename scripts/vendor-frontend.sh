#!/usr/bin/env bash
# Refreshes the vendored front-end files from the npm registry. The build
# never runs this: the extracted files are committed with their version and
# licence. Run it by hand when changing a version below.
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION=2.0.11 # 2.x: 4.x changed attribute inheritance

dest=internal/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null && tar xzf htmx.org-*.tgz)
mkdir -p "$dest"
cp "$tmp/package/dist/htmx.min.js" "$dest/htmx-${HTMX_VERSION}.min.js"
cp "$tmp/package/LICENSE" "$dest/htmx-LICENSE.txt"
echo "htmx.org ${HTMX_VERSION} (npm), licence: see htmx-LICENSE.txt" > "$dest/VERSIONS.txt"
echo "vendored into $dest:"; ls -l "$dest"
