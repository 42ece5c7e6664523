-- The tables of sums in shards (docs/domain.md §Statistics, "How the figures stay fast"). A
-- change adds its difference to the row of its key in one of a few shards (picked from the
-- dossier's code), not to one row per key: every intake of one agency's procedure in a month
-- added to the same row, whose lock it then held until its commit, so a busy counter's intakes
-- queued one behind the other (at 32 clients on PostgreSQL, half the connections waited on that
-- row). Reports add the shards up; an import, a rebuild and the sums per class recomputed
-- write shard 0.
-- SQLite cannot change a primary key in place: each table is made again.

CREATE TABLE stat_monthly_sharded (
    month             INTEGER NOT NULL,
    agency_code       TEXT NOT NULL,
    procedure_code    TEXT NOT NULL,
    channel           TEXT NOT NULL,
    shard             INTEGER NOT NULL DEFAULT 0,
    received          INTEGER NOT NULL DEFAULT 0,
    early             INTEGER NOT NULL DEFAULT 0,
    on_time           INTEGER NOT NULL DEFAULT 0,
    late              INTEGER NOT NULL DEFAULT 0,
    refused           INTEGER NOT NULL DEFAULT 0,
    withdrawn         INTEGER NOT NULL DEFAULT 0,
    overdue_began     INTEGER NOT NULL DEFAULT 0,
    overdue_ended     INTEGER NOT NULL DEFAULT 0,
    open_at_start     INTEGER NOT NULL DEFAULT 0,
    overdue_at_start  INTEGER NOT NULL DEFAULT 0,
    supplements       INTEGER NOT NULL DEFAULT 0,
    digitised         INTEGER NOT NULL DEFAULT 0,
    reused            INTEGER NOT NULL DEFAULT 0,
    paid_online       INTEGER NOT NULL DEFAULT 0,
    result_digitised  INTEGER NOT NULL DEFAULT 0,
    result_electronic INTEGER NOT NULL DEFAULT 0,
    very_satisfied    INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    unsatisfied       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, agency_code, procedure_code, channel, shard)
);
INSERT INTO stat_monthly_sharded SELECT month, agency_code, procedure_code, channel, 0, received, early, on_time,
    late, refused, withdrawn, overdue_began, overdue_ended, open_at_start, overdue_at_start,
    supplements, digitised, reused, paid_online, result_digitised, result_electronic,
    very_satisfied, satisfied, unsatisfied FROM stat_monthly;
DROP TABLE stat_monthly;
ALTER TABLE stat_monthly_sharded RENAME TO stat_monthly;

CREATE TABLE stat_monthly_class_sharded (
    month             INTEGER NOT NULL,
    agency_code       TEXT NOT NULL,
    class             INTEGER NOT NULL,
    channel           TEXT NOT NULL,
    shard             INTEGER NOT NULL DEFAULT 0,
    received          INTEGER NOT NULL DEFAULT 0,
    early             INTEGER NOT NULL DEFAULT 0,
    on_time           INTEGER NOT NULL DEFAULT 0,
    late              INTEGER NOT NULL DEFAULT 0,
    refused           INTEGER NOT NULL DEFAULT 0,
    withdrawn         INTEGER NOT NULL DEFAULT 0,
    overdue_began     INTEGER NOT NULL DEFAULT 0,
    overdue_ended     INTEGER NOT NULL DEFAULT 0,
    open_at_start     INTEGER NOT NULL DEFAULT 0,
    overdue_at_start  INTEGER NOT NULL DEFAULT 0,
    supplements       INTEGER NOT NULL DEFAULT 0,
    digitised         INTEGER NOT NULL DEFAULT 0,
    reused            INTEGER NOT NULL DEFAULT 0,
    paid_online       INTEGER NOT NULL DEFAULT 0,
    result_digitised  INTEGER NOT NULL DEFAULT 0,
    result_electronic INTEGER NOT NULL DEFAULT 0,
    very_satisfied    INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    unsatisfied       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, agency_code, class, channel, shard)
);
INSERT INTO stat_monthly_class_sharded SELECT month, agency_code, class, channel, 0, received, early, on_time,
    late, refused, withdrawn, overdue_began, overdue_ended, open_at_start, overdue_at_start,
    supplements, digitised, reused, paid_online, result_digitised, result_electronic,
    very_satisfied, satisfied, unsatisfied FROM stat_monthly_class;
DROP TABLE stat_monthly_class;
ALTER TABLE stat_monthly_class_sharded RENAME TO stat_monthly_class;

CREATE TABLE stat_yearly_class_sharded (
    year              INTEGER NOT NULL,
    agency_code       TEXT NOT NULL,
    class             INTEGER NOT NULL,
    channel           TEXT NOT NULL,
    shard             INTEGER NOT NULL DEFAULT 0,
    received          INTEGER NOT NULL DEFAULT 0,
    early             INTEGER NOT NULL DEFAULT 0,
    on_time           INTEGER NOT NULL DEFAULT 0,
    late              INTEGER NOT NULL DEFAULT 0,
    refused           INTEGER NOT NULL DEFAULT 0,
    withdrawn         INTEGER NOT NULL DEFAULT 0,
    overdue_began     INTEGER NOT NULL DEFAULT 0,
    overdue_ended     INTEGER NOT NULL DEFAULT 0,
    open_at_start     INTEGER NOT NULL DEFAULT 0,
    overdue_at_start  INTEGER NOT NULL DEFAULT 0,
    supplements       INTEGER NOT NULL DEFAULT 0,
    digitised         INTEGER NOT NULL DEFAULT 0,
    reused            INTEGER NOT NULL DEFAULT 0,
    paid_online       INTEGER NOT NULL DEFAULT 0,
    result_digitised  INTEGER NOT NULL DEFAULT 0,
    result_electronic INTEGER NOT NULL DEFAULT 0,
    very_satisfied    INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    unsatisfied       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, agency_code, class, channel, shard)
);
INSERT INTO stat_yearly_class_sharded SELECT year, agency_code, class, channel, 0, received, early, on_time,
    late, refused, withdrawn, overdue_began, overdue_ended, open_at_start, overdue_at_start,
    supplements, digitised, reused, paid_online, result_digitised, result_electronic,
    very_satisfied, satisfied, unsatisfied FROM stat_yearly_class;
DROP TABLE stat_yearly_class;
ALTER TABLE stat_yearly_class_sharded RENAME TO stat_yearly_class;
