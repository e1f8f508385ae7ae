package keras_test

import (
	"fmt"

	"github.com/rampartsec/rampart/scan/model/keras"
)

func ExampleScanConfig() {
	config := []byte(`{"class_name": "Sequential", "config": {"layers": [
		{"module": "keras.layers", "class_name": "Dense", "config": {
			"kernel_initializer": {"module": "builtins", "class_name": "exec", "config": {}}}}]}}`)
	for _, f := range keras.ScanConfig(config) {
		fmt.Println(f.RuleID, f.Severity, f.Excerpt)
	}
	// Output: model.keras.dangerous-callable critical $.config.layers[0].config.kernel_initializer: builtins.exec
}
