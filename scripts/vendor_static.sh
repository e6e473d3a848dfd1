#!/usr/bin/env bash
# Copy the front-end libraries pinned in package.json from the npm registry into
# linli/static/vendor/<name>-<version>/, with their licence files, and write the README listing them.
#
# The copied files are committed, so `make run` and CI never need npm. Run this only after changing a
# version in package.json (then `npm install` has refreshed package-lock.json), and update the
# template paths that name the version (grep -rn 'vendor/' linli/templates linli/static).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/linli/static/vendor"
cd "$ROOT"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    # --ignore-scripts: these packages need no install step, and nothing should run at install time.
    npm ci --ignore-scripts --no-audit --no-fund
fi

version_of() { node -p "require('./node_modules/$1/package.json').version"; }

HTMX_V="$(version_of htmx.org)"
LEAFLET_V="$(version_of leaflet)"
ALPINE_V="$(version_of @alpinejs/csp)"
VUE_V="$(version_of @vue/reactivity)"

mkdir -p "$VENDOR"
# One directory per library and version: drop older copies so only the pinned one is served.
rm -rf "$VENDOR"/htmx-* "$VENDOR"/leaflet-* "$VENDOR"/alpinejs-csp-*

# htmx: the minified build only.
d="$VENDOR/htmx-$HTMX_V"
mkdir -p "$d"
cp node_modules/htmx.org/dist/htmx.min.js "$d/"
cp node_modules/htmx.org/LICENSE "$d/LICENSE"

# Leaflet: script, stylesheet and the images the stylesheet points at (relative paths kept).
d="$VENDOR/leaflet-$LEAFLET_V"
mkdir -p "$d/images"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$d/"
cp node_modules/leaflet/dist/images/*.png "$d/images/"
cp node_modules/leaflet/LICENSE "$d/LICENSE"
# The minified script names a source map we do not ship; drop the comment so devtools do not 404.
sed -i '/^\/\/# sourceMappingURL=/d' "$d/leaflet.js"

# Alpine.js CSP build (no eval, so it runs under a strict Content-Security-Policy). The npm package
# ships no licence file; the text below is the one in Alpine's repository (MIT). The build bundles
# @vue/reactivity and @vue/shared, so their licences travel with it.
d="$VENDOR/alpinejs-csp-$ALPINE_V"
mkdir -p "$d"
cp node_modules/@alpinejs/csp/dist/cdn.min.js "$d/alpine-csp.min.js"
cat > "$d/LICENSE" <<'LICENSE_TEXT'
# MIT License

Copyright © 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE_TEXT
cp node_modules/@vue/reactivity/LICENSE "$d/LICENSE.vue-reactivity"
cp node_modules/@vue/shared/LICENSE "$d/LICENSE.vue-shared"

size() { wc -c <"$1" | tr -d ' '; }

cat > "$VENDOR/README.md" <<EOF
# Vendored front-end libraries

Served from our own origin; no page links a CDN. Written by \`scripts/vendor_static.sh\` from the exact
versions in \`package.json\` / \`package-lock.json\` (npm registry). Do not edit these files by hand:
change the version in \`package.json\`, run \`npm install\` and \`scripts/vendor_static.sh\`, then update the
paths in the templates.

| library | npm package | version | licence | files | bytes |
|---|---|---|---|---|---|
| htmx | \`htmx.org\` | $HTMX_V | 0BSD (\`htmx-$HTMX_V/LICENSE\`) | \`htmx.min.js\` | $(size "$VENDOR/htmx-$HTMX_V/htmx.min.js") |
| Leaflet | \`leaflet\` | $LEAFLET_V | BSD-2-Clause (\`leaflet-$LEAFLET_V/LICENSE\`) | \`leaflet.js\`, \`leaflet.css\`, \`images/\` | $(size "$VENDOR/leaflet-$LEAFLET_V/leaflet.js") + $(size "$VENDOR/leaflet-$LEAFLET_V/leaflet.css") |
| Alpine.js, CSP build | \`@alpinejs/csp\` | $ALPINE_V | MIT (\`alpinejs-csp-$ALPINE_V/LICENSE\`; bundles \`@vue/reactivity\` $VUE_V, MIT) | \`alpine-csp.min.js\` | $(size "$VENDOR/alpinejs-csp-$ALPINE_V/alpine-csp.min.js") |

Why these versions: htmx stays on the 2.0 line (4.0 renamed events and changed attribute inheritance;
moving is a separate change). Leaflet 1.9 is the current stable line. Alpine's CSP build evaluates no
strings, so it keeps working once the Content-Security-Policy forbids \`unsafe-eval\`.

Which page loads what: every page loads htmx (deferred) from \`base.html\`; only the map page loads
Leaflet; Alpine is available for pages that need client state and is loaded by those pages only.
EOF

echo "vendored htmx $HTMX_V, leaflet $LEAFLET_V, @alpinejs/csp $ALPINE_V into $VENDOR"
