-- Wrong enrolment passcodes from anyone, kept for an hour: past
-- ENROLLMENT_MAX_WRONG_PER_HOUR of them, enrolment pauses (guessing with
-- many throwaway accounts gets around the per-user lockout).
CREATE TABLE enrolment_wrong (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL -- unix milliseconds
) STRICT;
CREATE INDEX enrolment_wrong_at ON enrolment_wrong (at);

-- Until when enrolment is paused. One row.
CREATE TABLE enrolment_pause (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    until INTEGER NOT NULL -- unix milliseconds
) STRICT;
