package config

import (
	"math"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "4194304", want: 4 * MiB},
		{in: "1_048_576", want: MiB},
		{in: "512KiB", want: 512 * KiB},
		{in: "4MiB", want: 4 * MiB},
		{in: "4 MiB", want: 4 * MiB},
		{in: "4mib", want: 4 * MiB},
		{in: "1GiB", want: GiB},
		{in: "2TiB", want: 2 * TiB},
		{in: "4MB", want: 4_000_000},
		{in: "1KB", want: 1000},
		{in: "3GB", want: 3_000_000_000},
		{in: "1TB", want: 1_000_000_000_000},
		{in: "100B", want: 100},
		{in: "1.5MiB", want: 1572864},
		{in: "1.1KB", want: 1100},
		{in: ".5KiB", want: 512},
		{in: " 8MiB ", want: 8 * MiB},
		{in: "8388607TiB", want: 8388607 * TiB},
		{in: "", wantErr: "want a size"},
		{in: "MiB", wantErr: "want a size"},
		{in: "4 megabytes", wantErr: "want a size"},
		{in: "4M", wantErr: "want a size"},
		{in: "4MiBs", wantErr: "want a size"},
		{in: "0x10", wantErr: "want a size"},
		{in: "1e6", wantErr: "want a size"},
		{in: "+4MiB", wantErr: "want a size"},
		{in: "-1MiB", wantErr: "must not be negative"},
		{in: "1.2.3KiB", wantErr: "want a size"},
		{in: "1.3KiB", wantErr: "not a whole number of bytes"},
		{in: "0.1B", wantErr: "not a whole number of bytes"},
		{in: "8388608TiB", wantErr: "too large"},
		{in: "99999999999999999999", wantErr: "too large"},
		{in: "9999999999999999999.5KiB", wantErr: "too large"},
		{in: strings.Repeat("1", 100), wantErr: "want a size"},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseByteSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1023, "1023"},
		{KiB, "1KiB"},
		{4 * MiB, "4MiB"},
		{32 * MiB, "32MiB"},
		{GiB, "1GiB"},
		{1536 * KiB, "1536KiB"},
		{1000, "1KB"},
		{4_000_000, "4MB"},
		{1_000_000_000, "1GB"},
		{1001, "1001"},
		{64_000_000, "64MB"},
		{1024 * 1000, "1000KiB"},
		{2 * TiB, "2TiB"},
		{3e12, "3TB"},
		{GiB * 1953125, "1953125GiB"}, // also 2097152GB: the larger unit wins
		{-5, "-5"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestByteSizeRoundTrip(t *testing.T) {
	for _, b := range []ByteSize{0, 1, 999, 1000, 1024, 4 * MiB, 3 * GiB, 5_000_000_000, math.MaxInt64, 7 * TiB} {
		s, err := b.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got ByteSize
		if err := got.UnmarshalText(s); err != nil || got != b {
			t.Errorf("round trip of %d via %q = %d, %v", int64(b), s, int64(got), err)
		}
	}
}
