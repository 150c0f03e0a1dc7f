-- +goose Up
-- One tenant-tree root, enforced by the database: two replicas seeding an
-- empty database at once both pass an "is there a root?" check.
CREATE UNIQUE INDEX orgs_one_root ON orgs(kind) WHERE parent_id IS NULL;
