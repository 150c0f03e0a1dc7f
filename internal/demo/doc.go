// Package demo builds data to look at and to measure: Seed creates the small
// demo tenant tree that `canopy serve` starts with, and Generate builds the
// S and L datasets of PERFORMANCE.md in bulk.
package demo
