-- When a practice is open: its time zone and booking rules, weekly hours (wall-clock minutes
-- in that zone, Monday = 0), and blocked times (UTC instants).
CREATE TABLE availability_settings (
    doctor_id           TEXT    PRIMARY KEY REFERENCES doctors(id) ON DELETE CASCADE,
    time_zone           TEXT    NOT NULL,       -- IANA name
    appointment_minutes BIGINT  NOT NULL,
    gap_minutes         BIGINT  NOT NULL,
    notice_hours        BIGINT  NOT NULL,
    horizon_days        BIGINT  NOT NULL,
    hold_minutes        BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

CREATE TABLE weekly_hours (
    doctor_id    TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    weekday      BIGINT  NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute BIGINT  NOT NULL CHECK (start_minute >= 0),
    end_minute   BIGINT  NOT NULL CHECK (end_minute <= 1440 AND end_minute > start_minute),
    PRIMARY KEY (doctor_id, weekday, start_minute)
);

CREATE TABLE blocked_ranges (
    id         TEXT    PRIMARY KEY,             -- UUIDv7
    doctor_id  TEXT    NOT NULL REFERENCES doctors(id) ON DELETE CASCADE,
    starts_at  BIGINT  NOT NULL,
    ends_at    BIGINT  NOT NULL CHECK (ends_at > starts_at),
    all_day    BIGINT  NOT NULL CHECK (all_day IN (0, 1)),
    reason     TEXT,                            -- private to the doctor
    created_at BIGINT  NOT NULL
);
CREATE INDEX blocked_ranges_doctor ON blocked_ranges (doctor_id, ends_at);
