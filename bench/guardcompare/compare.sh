#!/usr/bin/env bash
# compare.sh runs Rampart's detectors and other guard libraries on the same
# dev files, in one run on one machine, and prints a side-by-side table of
# quality (precision, recall, F1, FPR at each tool's own operating point)
# and speed (items per second, single-threaded, from per-item latencies).
#
#   bench/guardcompare/compare.sh [TASK...]     # default: injection pii secrets toxicity exfil
#
# Environment:
#   RAMPART      a rampart binary to use (default: built from this checkout)
#   TOOLS        libraries to run (default: llm-guard llm_guardrail openai-guardrails hai-guardrails-pattern hai-guardrails)
#   HAI_SAMPLE   rows of each dev file hai-guardrails' heuristic mode runs on
#                (default 100: it checks about 0.2 items per second); every
#                k-th row is taken so the sample spans the file
#   OUT          directory for predictions and reports (default: a new temporary one)
#
#   bench/guardcompare/compare.sh --table DIR   # print the table of a finished run again
#
# Dev files are detect/<task>/testdata/dev.jsonl; a missing one is skipped
# with a message. Quality comes from `rampart eval --predictions` on each
# tool's `{"score", "flagged", "ms"}` lines (Rampart's own from `rampart
# check --jsonl`); speed from the per-item "ms" (the libraries) or from
# `rampart eval` (Rampart, which times each item the same way).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# table DIR prints the side-by-side table of the run whose files are in DIR.
table() {
	local dir=$1 task tool r ips note
	{
		printf 'task\ttool\tn\tprecision\trecall\tF1\tFPR\titems/s\tnote\n'
		while read -r task; do
			for tool in rampart $(cat "$dir/tools"); do
				r="$dir/$task-$tool.json"
				note=$(cat "$dir/$task-$tool.note" 2>/dev/null || true)
				if [ ! -f "$r" ]; then
					printf '%s\t%s\t–\t–\t–\t–\t–\t–\t%s\n' "$task" "$tool" "$note"
					continue
				fi
				ips=$(cat "$dir/$task-$tool.ips")
				jq -r --arg tool "$tool" --arg task "$task" --arg ips "$ips" --arg note "$note" \
					'def f: if . == null then "–" else (. * 1000 | round / 1000 | tostring) end;
					 [$task, $tool, (.overall.n|tostring), (.overall.precision|f), (.overall.recall|f), (.overall.f1|f), (.overall.fpr|f), $ips, $note] | @tsv' "$r"
			done
		done <"$dir/tasks"
	} | column -t -s $'\t'
}

if [ "${1:-}" = --table ]; then
	[ -d "${2:-}" ] || { echo "usage: compare.sh --table DIR" >&2; exit 2; }
	table "$2"
	exit 0
fi


tasks=("$@")
if [ ${#tasks[@]} -eq 0 ]; then
	tasks=(injection pii secrets toxicity exfil)
fi
read -r -a tools <<<"${TOOLS:-llm-guard llm_guardrail openai-guardrails hai-guardrails-pattern hai-guardrails}"
hai_sample=${HAI_SAMPLE:-100}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

for cmd in go node npm jq; do
	command -v "$cmd" >/dev/null || { echo "compare.sh: $cmd is required" >&2; exit 2; }
done

rampart=${RAMPART:-}
if [ -z "$rampart" ]; then
	rampart="$out/rampart"
	go build -o "$rampart" ./cmd/rampart
fi
if [ ! -d "$here/node_modules" ]; then
	(cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

echo "compare.sh: $(uname -m), $(nproc) cores, node $(node --version), $(go version | cut -d' ' -f3); output in $out"
for t in "${tools[@]}"; do
	case $t in
	hai-guardrails | hai-guardrails-pattern) pkg=@presidio-dev/hai-guardrails ;;
	openai-guardrails) pkg=@openai/guardrails ;;
	*) pkg=$t ;;
	esac
	printf '  %s = %s %s\n' "$t" "$pkg" "$(jq -r .version "$here/node_modules/$pkg/package.json")"
done

ips_from_ms() { # items per second from the "ms" fields of a predictions file
	jq -s 'map(.ms // 0) | add as $ms | if $ms > 0 then (length / ($ms / 1000)) else null end
		| if . == null then "–" elif . < 10 then (. * 100 | round / 100) else round end' "$1"
}

: >"$out/tasks"
printf '%s\n' "${tools[@]}" >"$out/tools"
for task in "${tasks[@]}"; do
	data="detect/$task/testdata/dev.jsonl"
	if [ ! -f "$data" ]; then
		echo "skip $task: $data does not exist (yet)"
		continue
	fi
	# The libraries' pii checks look for the validated types only (e-mail,
	# phone, card, IBAN, SSN, IP), and so does the positive set of the pii
	# task; Rampart runs with the same entity types so that its names and
	# addresses do not count against it as false positives.
	opts=()
	if [ "$task" = pii ]; then
		opts=(--option 'entities=[email, phone_number, credit_card, iban, us_ssn, ip_address]')
	fi
	if ! "$rampart" eval --detector "$task" "${opts[@]}" --data "$data" --format json >"$out/$task-rampart-speed.json" 2>"$out/$task-rampart.err"; then
		echo "skip $task: rampart has no detector $task ($(head -c 200 "$out/$task-rampart.err"))"
		continue
	fi
	echo "$task" >>"$out/tasks"
	# Rampart's predictions, in the shape every tool writes.
	"$rampart" check --detector "$task" "${opts[@]}" --jsonl <"$data" >"$out/$task-rampart.pred" 2>/dev/null || true
	"$rampart" eval --detector "$task" --data "$data" --predictions "$out/$task-rampart.pred" --format json >"$out/$task-rampart.json"
	ips=$(jq '.speed | if . == null or .total_ms == 0 then "–" else (.items / (.total_ms / 1000) | round) end' "$out/$task-rampart-speed.json")
	echo "$ips" >"$out/$task-rampart.ips"
	for tool in "${tools[@]}"; do
		tdata=$data
		note=""
		if [ "$tool" = hai-guardrails ] && [ "$task" = injection ]; then
			n=$(wc -l <"$data")
			k=$(((n + hai_sample - 1) / hai_sample))
			tdata="$out/$task-sample.jsonl"
			awk -v k="$k" '(NR - 1) % k == 0' "$data" >"$tdata"
			note="1 row in $k ($(wc -l <"$tdata") rows)"
		fi
		pred="$out/$task-$tool.pred"
		set +e
		node "$here/run.mjs" --tool "$tool" --task "$task" --data "$tdata" --out "$pred" 2>"$out/$task-$tool.log"
		rc=$?
		set -e
		if [ $rc -eq 3 ]; then
			echo "no offline $task check" >"$out/$task-$tool.note"
			continue
		elif [ $rc -ne 0 ]; then
			echo "failed (see $out/$task-$tool.log)" >"$out/$task-$tool.note"
			continue
		fi
		"$rampart" eval --detector "$task" --data "$tdata" --predictions "$pred" --format json >"$out/$task-$tool.json"
		ips_from_ms "$pred" >"$out/$task-$tool.ips"
		echo "$note" >"$out/$task-$tool.note"
	done
done

echo
table "$out"
