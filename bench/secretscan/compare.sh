#!/usr/bin/env bash
# Side-by-side of rampart's secrets scanner and gitleaks on one labeled
# corpus (see main.go). Usage: bench/secretscan/compare.sh [-runs N] [-mb N]
# Needs gitleaks v8.30.1:
#   go install github.com/zricethezav/gitleaks/v8@v8.30.1
set -euo pipefail
cd "$(dirname "$0")/../.."
gitleaks=${GITLEAKS:-$(command -v gitleaks || echo "$(go env GOPATH)/bin/gitleaks")}
if [[ ! -x $gitleaks ]]; then
	echo "gitleaks not found; install it with: go install github.com/zricethezav/gitleaks/v8@v8.30.1" >&2
	exit 1
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/secretscan" ./bench/secretscan
"$bin/secretscan" compare -gitleaks "$gitleaks" -runs 5 -mb 8 "$@"
