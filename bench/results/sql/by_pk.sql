-- graft's statement for `by_pk`, as PostgreSQL logged it
SELECT json_build_object('Album_by_pk', (SELECT json_build_object('AlbumId', "_t0"."AlbumId", 'Title', "_t0"."Title", 'Artist', "_rel2"."json") AS "json" FROM "public"."Album" AS "_t0" LEFT JOIN LATERAL (SELECT json_build_object('Name', "_t1"."Name") AS "json" FROM "public"."Artist" AS "_t1" WHERE ("_t0"."ArtistId" = "_t1"."ArtistId") LIMIT 1) AS "_rel2" ON true WHERE ("_t0"."AlbumId" = $2::"pg_catalog"."int4") LIMIT 1)) AS "data"
-- $1: {}
-- $2: 1
