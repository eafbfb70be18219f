-- When a practice is open: its time zone and booking rules, weekly hours (wall-clock minutes
-- in that zone, Monday = 0), and blocked times (UTC instants).
CREATE TABLE availability_settings (
    doctor_id           TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    time_zone           TEXT    NOT NULL,       -- IANA name
    appointment_minutes INTEGER NOT NULL,
    gap_minutes         INTEGER NOT NULL,
    notice_hours        INTEGER NOT NULL,
    horizon_days        INTEGER NOT NULL,
    hold_minutes        INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE weekly_hours (
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL CHECK (start_minute >= 0),
    end_minute   INTEGER NOT NULL CHECK (end_minute <= 1440 AND end_minute > start_minute),
    PRIMARY KEY (doctor_id, weekday, start_minute)
);

CREATE TABLE blocked_ranges (
    id         TEXT    PRIMARY KEY,             -- UUIDv7
    doctor_id  TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
    all_day    INTEGER NOT NULL CHECK (all_day IN (0, 1)),
    reason     TEXT,                            -- private to the doctor
    created_at INTEGER NOT NULL
);
CREATE INDEX blocked_ranges_doctor ON blocked_ranges (doctor_id, ends_at);
