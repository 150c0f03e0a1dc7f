package main

import (
	"fmt"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/config"
	"github.com/canopy-channel/canopy/internal/demo"
)

type demoCmd struct {
	config.Database `embed:""`
	Size            string `help:"Generate a benchmark dataset instead of the small demo tree: S (CI) or L (headline), as in PERFORMANCE.md; XS for a quick look." enum:",XS,S,L" default:""`
	Changes         int64  `help:"With --size: change-log rows instead of the size's own number."`
}

func (c *demoCmd) Run(e *env) error {
	log := newLogger(e.stderr, "", "warn")
	st, err := openAndMigrate(e.ctx, c.Database, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if c.Size != "" {
		return generate(e, st, c.Size, c.Changes)
	}
	clock := canopy.SystemClock{}
	a := app.New(app.Deps{Store: st, Clock: clock, Log: log})
	seeded, err := demo.Seed(e.ctx, a, st, clock.Now())
	if err != nil {
		return err
	}
	if !seeded.Created {
		_, err = fmt.Fprintln(e.stdout, "the database already has a tenant tree; nothing seeded")
		return err
	}
	_, err = fmt.Fprintln(e.stdout, "seeded the demo tenant tree")
	return err
}
