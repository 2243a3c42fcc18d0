-- graft's statement for `filtered_list`, as PostgreSQL logged it
SELECT json_build_object('Track', (SELECT coalesce(json_agg("_s1"."json" ORDER BY "_s1"."ob0" ASC), '[]') AS "json" FROM (SELECT json_build_object('TrackId', "_t0"."TrackId", 'Name', "_t0"."Name", 'Milliseconds', "_t0"."Milliseconds", 'UnitPrice', "_t0"."UnitPrice") AS "json", "_t0"."_ob0" AS "ob0" FROM (SELECT *, "_t0"."Name" AS "_ob0" FROM "public"."Track" AS "_t0" WHERE (("_t0"."GenreId" = $2::"pg_catalog"."int4") AND ("_t0"."Milliseconds" > $3::"pg_catalog"."int4")) ORDER BY "_ob0" ASC LIMIT 20) AS "_t0") AS "_s1")) AS "data"
-- $1: {}
-- $2: 1
-- $3: 300000
