package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "0003_c.sql: expected version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, nil, "0001_b.sql: expected version 2"},
		{"bad name", fstest.MapFS{"m/init.sql": file("A")}, nil, "init.sql: want a name like"},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("A")}, nil, "0000_a.sql: want a name like"},
		{"empty file", fstest.MapFS{"m/0001_a.sql": file(" \n")}, nil, "0001_a.sql is empty"},
		{"no files", fstest.MapFS{"m/README": file("x")}, nil, "no .sql files"},
		{"no dir", fstest.MapFS{}, nil, "load migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) || got[0] != 1 || got[1] != 2 || ms[0].SQL != "A" {
				t.Fatalf("versions %v (first SQL %q), want %v", got, ms[0].SQL, tt.want)
			}
		})
	}
}
