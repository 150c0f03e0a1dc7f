package main

import (
	"fmt"

	"github.com/canopy-channel/canopy/internal/config"
)

type migrateCmd struct {
	config.Database `embed:""`
	LogLevel        string `help:"Log level." enum:"debug,info,warn,error" default:"warn"`
}

func (c *migrateCmd) Run(e *env) error {
	log := newLogger(e.stderr, "", c.LogLevel)
	st, err := openAndMigrate(e.ctx, c.Database, log)
	if err != nil {
		return err
	}
	defer st.Close()
	current, _, err := st.SchemaVersion(e.ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "database (%s) is at migration %d\n", st.Dialect(), current)
	return err
}
