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
