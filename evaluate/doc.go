// Package evaluate measures detectors on labelled JSONL data and runs them
// over JSONL streams: the engine behind `rampart eval` and `rampart check`.
//
// A dataset row is a JSON object with a "text" and a "label" and optional
// "family", "lang", "source" and "role" fields; span tasks add "entities"
// or "secrets", lists of {type, start, end, value} with start and end in
// Unicode code points (as the shared datasets store them), converted to
// byte offsets here. Evaluate runs a detector on every row, single-threaded
// and in bounded memory (it keeps one score and one latency per row, never
// the texts), and returns a Report: the confusion matrix at the detector's
// threshold, precision, recall, F1, recall at 1 % and 5 % false-positive
// rate, ROC AUC, breakdowns per family, language and source, span-level
// figures per type (IoU >= 0.5, and exact boundaries) and speed.
// EvaluatePredictions computes the same report from another tool's
// per-line predictions, in the shape CheckJSONL writes.
//
// A floors file (LoadFloors) records the minimum figures each detector must
// reach on its dev data; CI runs it and fails on any figure below its floor.
//
// The registry detectors are built from is always a parameter, so tests can
// use their own.
package evaluate
