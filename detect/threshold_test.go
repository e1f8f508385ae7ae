package detect

import (
	"context"
	"testing"

	"github.com/rampartsec/rampart/finding"
)

type plain struct{}

func (plain) Name() string                                 { return "plain" }
func (plain) Rules() []*finding.Rule                       { return nil }
func (plain) Detect(context.Context, Input) ([]Hit, error) { return nil, nil }

type calibrated struct {
	plain
	t float64
}

func (c calibrated) Threshold() float64 { return c.t }

func TestThresholdOf(t *testing.T) {
	tests := []struct {
		name string
		d    Detector
		want float64
	}{
		{"not a Thresholder", plain{}, 0.5},
		{"Thresholder", calibrated{t: 0.83}, 0.83},
		{"Thresholder at zero", calibrated{t: 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ThresholdOf(tt.d); got != tt.want {
				t.Errorf("ThresholdOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want float64
		ok   bool
	}{
		{0.25, 0.25, true}, {float32(0.5), 0.5, true}, {1, 1, true}, {int64(2), 2, true}, {uint64(3), 3, true},
		{"0.5", 0, false}, {true, 0, false}, {nil, 0, false}, {int32(1), 0, false},
	} {
		if got, ok := Number(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}
