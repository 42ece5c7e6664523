-- The tables of sums in shards (docs/domain.md §Statistics, "How the figures stay fast"). A
-- change adds its difference to the row of its key in one of a few shards (picked from the
-- dossier's code), not to one row per key: every intake of one agency's procedure in a month
-- added to the same row, whose lock it then held until its commit, so a busy counter's intakes
-- queued one behind the other (at 32 clients on PostgreSQL, half the connections waited on that
-- row). Reports add the shards up; an import, a rebuild and the sums per class recomputed
-- write shard 0.
ALTER TABLE stat_monthly ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stat_monthly DROP CONSTRAINT stat_monthly_pkey;
ALTER TABLE stat_monthly ADD PRIMARY KEY (month, agency_code, procedure_code, channel, shard);
ALTER TABLE stat_monthly_class ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stat_monthly_class DROP CONSTRAINT stat_monthly_class_pkey;
ALTER TABLE stat_monthly_class ADD PRIMARY KEY (month, agency_code, class, channel, shard);
ALTER TABLE stat_yearly_class ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stat_yearly_class DROP CONSTRAINT stat_yearly_class_pkey;
ALTER TABLE stat_yearly_class ADD PRIMARY KEY (year, agency_code, class, channel, shard);
