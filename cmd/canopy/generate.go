package main

import (
	"fmt"

	"github.com/canopy-channel/canopy/internal/store"
)

// generate is wired to the dataset generator once it lands.
func generate(e *env, st *store.Store, size string) error {
	return fmt.Errorf("dataset generation (--size %s) is not available in this build", size)
}
