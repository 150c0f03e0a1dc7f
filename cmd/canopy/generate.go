package main

import (
	"fmt"

	"github.com/canopy-channel/canopy/internal/demo"
	"github.com/canopy-channel/canopy/internal/store"
)

// generate builds a benchmark dataset of PERFORMANCE.md into st.
func generate(e *env, st *store.Store, size string, changes int64) error {
	sz, err := demo.ParseSize(size)
	if err != nil {
		return err
	}
	stats, err := demo.GenerateWith(e.ctx, st, demo.Options{Size: sz, Changes: changes}, e.stdout)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "dataset %s on %s built in %.1fs\n", sz, st.Dialect(), stats.Total.Seconds())
	return err
}
