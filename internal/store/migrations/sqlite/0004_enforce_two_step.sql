-- +goose Up
-- An organization may require two-step verification of everyone holding a
-- membership in it; a person needs it if any of their organizations does.
ALTER TABLE orgs ADD COLUMN enforce_two_step INTEGER NOT NULL DEFAULT 0;
-- Set on sessions opened for someone who must still enrol: such a session
-- reaches only the enrolment page until two-step is on.
ALTER TABLE sessions ADD COLUMN must_enrol_two_step INTEGER NOT NULL DEFAULT 0;
