// Package canopy holds the domain vocabulary shared by every layer: the
// tenant tree (Org, OrgKind, Scope), people and actors, the change-log action
// vocabulary and the error kinds adapters map to responses. It depends on the
// standard library only.
package canopy
