-- +goose Up
-- Group managers: users of the customer (people with a membership there)
-- who manage a group of its end users and get its weekly report.
CREATE TABLE group_managers (
    group_id  BIGINT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    person_id BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_managers_person ON group_managers(person_id);
