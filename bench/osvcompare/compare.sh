#!/usr/bin/env bash
# compare.sh runs `rampart scan deps` and osv-scanner on the same lockfiles
# against the same OSV export, offline, and compares the record ids each
# reports per package version (go run ./bench/osvcompare).
#
#   bench/osvcompare/compare.sh [EXPORT_DIR [PROJECT_DIR...]]
#
# EXPORT_DIR is a folder of OSV JSON records in per-ecosystem subfolders
# (default: scan/deps/osv/testdata/export); each PROJECT_DIR holds lockfiles
# (default: scan/deps/lockfile/testdata, scan/deps/testdata and the acceptance
# corpus scan/testdata/repos). osv-scanner v2.6.0 needs Go 1.27:
#   GOTOOLCHAIN=go1.27.3 go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0
# (OSV_SCANNER names the binary if it is not on PATH.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export_dir=${1:-scan/deps/osv/testdata/export}
shift || true
projects=("$@")
[[ ${#projects[@]} -gt 0 ]] || projects=(scan/deps/lockfile/testdata scan/deps/testdata scan/testdata/repos)
osvscanner=${OSV_SCANNER:-osv-scanner}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/rampart" ./cmd/rampart
"$tmp/rampart" vulndb import "$export_dir" --db "$tmp/db" >/dev/null

# osv-scanner's offline database, written from the records rampart imported
# (YAML records included), so that both read exactly the same data.
go run ./bench/osvcompare -zips "$tmp/cache" -db "$tmp/db"

status=0
for project in "${projects[@]}"; do
	echo "== $project"
	"$tmp/rampart" scan deps "$project" --vulndb "$tmp/db" --skip-code --format json --fail-on none >"$tmp/rampart.json"
	OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$tmp/cache" "$osvscanner" scan source --offline --no-resolve --all-packages \
		--format json -r "$project" >"$tmp/osv.json" 2>"$tmp/osv.log" || true
	go run ./bench/osvcompare -db "$tmp/db" -rampart "$tmp/rampart.json" -osv-scanner "$tmp/osv.json" || status=1
done
exit $status
