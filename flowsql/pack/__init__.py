"""The query pack: one .sql file per query, its typed parameters, rendering, the lint gate."""
